// Shared state and helpers of the addon: the engine and stream, the primitive cache, and staging of
// user buffers (tfjs's plain NHWC / HWIO Float32Arrays) into the layouts a primitive prefers.
#pragma once

#include <napi.h>

#include <dnnl.hpp>
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

// Returns the entry for `key`, creating it with `make` on first use.
template <typename T, typename Make>
T& cached(const std::string& key, Make make) {
  static std::unordered_map<std::string, std::unique_ptr<CacheEntry>> cache;
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make()).first;
  return static_cast<T&>(*it->second);
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
