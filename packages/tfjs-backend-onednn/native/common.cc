#include "common.hpp"

#include <sstream>

namespace onednn_addon {

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream strm(cpu_engine());
  return strm;
}

PrimitiveCache& PrimitiveCache::instance() {
  static PrimitiveCache cache;
  return cache;
}

void PrimitiveCache::set_limit(size_t limit) {
  limit_ = limit;
  evict_beyond_limit();
}

void PrimitiveCache::evict_beyond_limit() {
  while (entries_.size() > limit_ && entries_.size() > 1) {
    entries_.erase(order_.back());
    order_.pop_back();
  }
}

void PrimitiveCache::clear() {
  entries_.clear();
  order_.clear();
}

Staged::Staged(const memory::desc& user, const memory::desc& prim, bool input, bool output)
    : user_md(user), prim_md(prim), reorder_needed(user != prim) {
  if (!reorder_needed) return;
  internal = memory(prim_md, cpu_engine());
  memory user_mem(user_md, cpu_engine(), DNNL_MEMORY_NONE);
  if (input) to_prim = dnnl::reorder(user_mem, internal);
  if (output) to_user = dnnl::reorder(internal, user_mem);
}

memory Staged::stage_in(float* data) {
  memory user_mem(user_md, cpu_engine(), data);
  if (!reorder_needed) return user_mem;
  to_prim.execute(cpu_stream(), user_mem, internal);
  return internal;
}

memory Staged::stage_out(float* data) {
  if (!reorder_needed) return memory(user_md, cpu_engine(), data);
  return internal;
}

void Staged::finish_out(float* data) {
  if (!reorder_needed) return;
  memory user_mem(user_md, cpu_engine(), data);
  to_user.execute(cpu_stream(), internal, user_mem);
}

static void throw_type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

float* float_data(const Napi::Value& value, size_t expected_length, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_type_error(value.Env(), std::string(name) + ": expected a Float32Array");
  }
  auto array = value.As<Napi::Float32Array>();
  if (array.ElementLength() != expected_length) {
    throw_type_error(value.Env(), std::string(name) + ": expected " + std::to_string(expected_length) +
                                      " elements, got " + std::to_string(array.ElementLength()));
  }
  return array.Data();
}

float* optional_float_data(const Napi::Value& value, size_t expected_length, const char* name) {
  if (value.IsNull() || value.IsUndefined()) return nullptr;
  return float_data(value, expected_length, name);
}

std::vector<int64_t> int_params(const Napi::Value& value, size_t expected_length, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_type_error(value.Env(), std::string(name) + ": expected an Int32Array");
  }
  auto array = value.As<Napi::Int32Array>();
  if (array.ElementLength() != expected_length) {
    throw_type_error(value.Env(), std::string(name) + ": expected " + std::to_string(expected_length) +
                                      " parameters, got " + std::to_string(array.ElementLength()));
  }
  return std::vector<int64_t>(array.Data(), array.Data() + expected_length);
}

std::string key_of(const char* op, const std::vector<int64_t>& params, int64_t extra) {
  std::ostringstream out;
  out << op;
  for (auto p : params) out << ',' << p;
  out << '|' << extra;
  return out.str();
}

}  // namespace onednn_addon
