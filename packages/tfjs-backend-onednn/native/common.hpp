// Shared state and helpers of the addon: the engine and stream, the primitive cache, and staging of
// user buffers (tfjs's plain NHWC / HWIO Float32Arrays) into the layouts a primitive prefers.
#pragma once

#include <napi.h>

#include <dnnl.hpp>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace onednn_addon {

using dnnl::memory;

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// Any cached object: primitives and their staging buffers, keyed by op and shape.
struct CacheEntry {
  virtual ~CacheEntry() = default;
};

// The primitive cache, least recently used first out. Each kernel call looks up exactly one entry,
// so evicting others when a new one arrives never frees an entry a caller still holds.
class PrimitiveCache {
 public:
  static PrimitiveCache& instance();

  // Returns the entry for `key`, creating it with `make` on first use.
  template <typename T, typename Make>
  T& get(const std::string& key, Make make) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      ++hits_;
      order_.splice(order_.begin(), order_, it->second.position);
      return static_cast<T&>(*it->second.entry);
    }
    ++misses_;
    std::unique_ptr<CacheEntry> made = make();
    order_.push_front(key);
    auto& slot = entries_[key];
    slot.entry = std::move(made);
    slot.position = order_.begin();
    evict_beyond_limit();
    return static_cast<T&>(*slot.entry);
  }

  // Most entries kept (every op and shape of a model has one; varying shapes add more).
  size_t limit() const { return limit_; }
  void set_limit(size_t limit);
  size_t size() const { return entries_.size(); }
  // Lookups that found their entry, and those that had to make it (oneDNN setup, layout timing).
  double hits() const { return hits_; }
  double misses() const { return misses_; }
  void clear();

 private:
  struct Slot {
    std::unique_ptr<CacheEntry> entry;
    std::list<std::string>::iterator position;
  };
  void evict_beyond_limit();  // never the most recent entry

  std::unordered_map<std::string, Slot> entries_;
  std::list<std::string> order_;  // most recently used first
  size_t limit_ = 2048;
  double hits_ = 0;
  double misses_ = 0;
};

template <typename T, typename Make>
T& cached(const std::string& key, Make make) {
  return PrimitiveCache::instance().get<T>(key, make);
}

// A user buffer and the layout the primitive wants it in. When they differ, `stage_in` reorders
// the user data into an internal buffer (and `stage_out` reorders results back).
struct Staged {
  memory::desc user_md;
  memory::desc prim_md;
  bool reorder_needed = false;
  memory internal;
  dnnl::reorder to_prim;
  dnnl::reorder to_user;

  Staged() = default;
  Staged(const memory::desc& user, const memory::desc& prim, bool input, bool output);

  // Memory the primitive should read: the user buffer itself or the reordered internal copy.
  memory stage_in(float* data);
  // Memory the primitive should write; call `finish_out` after the primitive ran.
  memory stage_out(float* data);
  void finish_out(float* data);
};

// Typed-array access with argument checks that name the argument.
float* float_data(const Napi::Value& value, size_t expected_length, const char* name);
float* optional_float_data(const Napi::Value& value, size_t expected_length, const char* name);
std::vector<int64_t> int_params(const Napi::Value& value, size_t expected_length, const char* name);
std::string key_of(const char* op, const std::vector<int64_t>& params, int64_t extra = 0);

}  // namespace onednn_addon
