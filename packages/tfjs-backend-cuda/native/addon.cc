// N-API surface of the CUDA backend. Device pointers travel as JS numbers (CUDA's unified
// addresses fit in 53 bits); every kernel is queued on the backend's one stream, and only
// download() and synchronize() make the host wait.
#include <napi.h>

#include <string>
#include <vector>

#include "gemm.hpp"
#include "kernels.hpp"
#include "ops.hpp"
#include "scratch.hpp"

namespace {

using Info = const Napi::CallbackInfo&;

void* ptr(const Napi::Value& v) { return reinterpret_cast<void*>(static_cast<uintptr_t>(v.As<Napi::Number>().DoubleValue())); }
template <class T>
T* typed(const Napi::Value& v) { return static_cast<T*>(ptr(v)); }
int64_t i64(const Napi::Value& v) { return static_cast<int64_t>(v.As<Napi::Number>().DoubleValue()); }
int i32(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
float f32(const Napi::Value& v) { return v.As<Napi::Number>().FloatValue(); }
bool flag(const Napi::Value& v) { return v.ToBoolean().Value(); }

std::vector<int64_t> numbers(const Napi::Value& v) {
  Napi::Array array = v.As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) out[i] = i64(array.Get(i));
  return out;
}

rt::Dims dims(Napi::Env env, const Napi::Value& v) {
  std::vector<int64_t> values = numbers(v);
  if (values.size() > (size_t)rt::kMaxRank) throw Napi::Error::New(env, "cuda: tensors of rank above 6 are not supported");
  rt::Dims d;
  d.rank = (int)values.size();
  for (size_t i = 0; i < values.size(); ++i) d.d[i] = values[i];
  return d;
}

/** Runs a binding, turning native failures into JS errors (OOM gets code 'CUDA_OOM'). */
template <class F>
Napi::Value guard(Info info, F body) {
  Napi::Env env = info.Env();
  try {
    return body(env);
  } catch (const Napi::Error&) {
    throw;
  } catch (const rt::OutOfMemory& e) {
    Napi::Error error = Napi::Error::New(env, e.what());
    error.Set("code", Napi::String::New(env, "CUDA_OOM"));
    throw error;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("cuda: ") + e.what());
  }
}

#define BIND(name, ...)                                                    \
  Napi::Value name(Info info) {                                             \
    return guard(info, [&](Napi::Env env) -> Napi::Value {                  \
      (void)env;                                                            \
      __VA_ARGS__;                                                          \
      return env.Undefined();                                               \
    });                                                                     \
  }

Napi::Value Init(Info info) {
  return guard(info, [&](Napi::Env env) -> Napi::Value {
    rt::InitResult r = rt::init();
    Napi::Object o = Napi::Object::New(env);
    o.Set("deviceCount", r.device_count);
    o.Set("error", r.error);
    o.Set("name", r.name);
    o.Set("computeCapability", std::to_string(r.major) + "." + std::to_string(r.minor));
    o.Set("multiprocessors", r.multiprocessors);
    o.Set("memoryBytes", r.memory_bytes);
    o.Set("runtimeVersion", r.runtime_version);
    o.Set("driverVersion", r.driver_version);
    o.Set("emulated", r.emulated);
    return o;
  });
}

Napi::Value Malloc(Info info) {
  return guard(info, [&](Napi::Env env) -> Napi::Value {
    void* p = rt::malloc_device(static_cast<size_t>(i64(info[0])));
    return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(p)));
  });
}
BIND(Free, rt::free_device(ptr(info[0])))
BIND(Upload, {
  Napi::TypedArray array = info[1].As<Napi::TypedArray>();
  uint8_t* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  rt::upload(ptr(info[0]), data, array.ByteLength());
})
BIND(Download, {
  Napi::TypedArray array = info[1].As<Napi::TypedArray>();
  uint8_t* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  rt::download(data, ptr(info[0]), array.ByteLength());
})
BIND(Copy, rt::copy_device(ptr(info[0]), ptr(info[1]), static_cast<size_t>(i64(info[2]))))
BIND(Memset, rt::memset_device(ptr(info[0]), i32(info[1]), static_cast<size_t>(i64(info[2]))))
BIND(Synchronize, rt::synchronize())
Napi::Value MemInfo(Info info) {
  return guard(info, [&](Napi::Env env) -> Napi::Value {
    double free_bytes = 0, total_bytes = 0;
    rt::mem_info(&free_bytes, &total_bytes);
    Napi::Object o = Napi::Object::New(env);
    o.Set("free", free_bytes);
    o.Set("total", total_bytes);
    o.Set("scratch", static_cast<double>(scratch::held()));
    return o;
  });
}
BIND(ReleaseScratch, scratch::release())

BIND(Unary, kernels::unary(i32(info[0]), i32(info[1]), ptr(info[2]), ptr(info[3]), i64(info[4]), f32(info[5]), f32(info[6])))
BIND(Binary, kernels::binary(i32(info[0]), i32(info[1]), ptr(info[2]), dims(env, info[3]), ptr(info[4]), dims(env, info[5]),
                             ptr(info[6]), i32(info[7]), dims(env, info[8])))
BIND(Select, kernels::select(typed<int32_t>(info[0]), dims(env, info[1]), ptr(info[2]), ptr(info[3]), ptr(info[4]), dims(env, info[5])))
BIND(Cast, kernels::cast(i32(info[0]), i32(info[1]), flag(info[2]), ptr(info[3]), ptr(info[4]), i64(info[5])))
BIND(Fill, kernels::fill(i32(info[0]), ptr(info[1]), i64(info[2]), info[3].As<Napi::Number>().DoubleValue()))
BIND(Transpose, {
  std::vector<int64_t> perm64 = numbers(info[2]);
  int perm[rt::kMaxRank] = {};
  for (size_t i = 0; i < perm64.size() && i < (size_t)rt::kMaxRank; ++i) perm[i] = (int)perm64[i];
  kernels::transpose(ptr(info[0]), dims(env, info[1]), perm, ptr(info[3]));
})
BIND(Slice, {
  std::vector<int64_t> begin = numbers(info[2]), step = numbers(info[3]);
  kernels::strided_slice(ptr(info[0]), dims(env, info[1]), begin.data(), step.data(), ptr(info[4]), dims(env, info[5]));
})
BIND(Pad, {
  std::vector<int64_t> before = numbers(info[2]);
  kernels::pad(ptr(info[0]), dims(env, info[1]), before.data(), info[3].As<Napi::Number>().Uint32Value(), ptr(info[4]),
               dims(env, info[5]));
})
BIND(Tile, kernels::tile(ptr(info[0]), dims(env, info[1]), ptr(info[2]), dims(env, info[3])))
BIND(CopyColumns, kernels::copy_columns(ptr(info[0]), i64(info[1]), i64(info[2]), ptr(info[3]), i64(info[4]), i64(info[5])))
BIND(OneHot, kernels::one_hot(typed<int32_t>(info[0]), i64(info[1]), i64(info[2]), info[3].As<Napi::Number>().Uint32Value(),
                              info[4].As<Napi::Number>().Uint32Value(), typed<uint32_t>(info[5])))
BIND(Gather, kernels::gather(ptr(info[0]), i64(info[1]), i64(info[2]), i64(info[3]), typed<int32_t>(info[4]), i64(info[5]), ptr(info[6])))
BIND(Reduce, kernels::reduce(i32(info[0]), i32(info[1]), ptr(info[2]), i64(info[3]), i64(info[4]), i64(info[5]), ptr(info[6])))
BIND(Softmax, kernels::softmax(typed<float>(info[0]), i64(info[1]), i64(info[2]), typed<float>(info[3]), flag(info[4])))

kernels::ConvShape conv_shape(const Napi::Value& v) {
  std::vector<int64_t> s = numbers(v);
  if (s.size() != 15) throw std::runtime_error("conv shape: expected 15 numbers");
  return {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], s[13], s[14]};
}
kernels::PoolShape pool_shape(const Napi::Value& v) {
  std::vector<int64_t> s = numbers(v);
  if (s.size() != 17) throw std::runtime_error("pool shape: expected 17 numbers");
  return {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15], s[16]};
}

BIND(Conv2d, kernels::conv2d(typed<float>(info[1]), typed<float>(info[2]), typed<float>(info[3]), conv_shape(info[0])))
BIND(Conv2dBackpropFilter,
     kernels::conv2d_backprop_filter(typed<float>(info[1]), typed<float>(info[2]), typed<float>(info[3]), conv_shape(info[0])))
BIND(Conv2dBackpropInput,
     kernels::conv2d_backprop_input(typed<float>(info[1]), typed<float>(info[2]), typed<float>(info[3]), conv_shape(info[0])))
BIND(BiasActivation, kernels::bias_activation(typed<float>(info[0]), i64(info[1]), i64(info[2]), typed<float>(info[3]), i32(info[4]), f32(info[5])))
BIND(Matmul, kernels::matmul(typed<float>(info[0]), typed<float>(info[1]), typed<float>(info[2]), i64(info[3]), i64(info[4]),
                             i64(info[5]), i64(info[6]), i64(info[7]), flag(info[8]), flag(info[9])))
BIND(Pool, kernels::pool(typed<float>(info[2]), pool_shape(info[0]), flag(info[1]), typed<float>(info[3])))
BIND(PoolGrad, kernels::pool_grad(typed<float>(info[2]), typed<float>(info[3]), pool_shape(info[0]), flag(info[1]), typed<float>(info[4])))
BIND(BatchNormTraining,
     kernels::batch_norm_training(typed<float>(info[0]), typed<float>(info[1]), typed<float>(info[2]), f32(info[3]), i64(info[4]),
                                  i64(info[5]), flag(info[6]), typed<float>(info[7]), typed<float>(info[8]), typed<float>(info[9])))
BIND(BatchNormTrainingGrad,
     kernels::batch_norm_training_grad(typed<float>(info[0]), typed<float>(info[1]), typed<float>(info[2]), typed<float>(info[3]),
                                       typed<float>(info[4]), typed<float>(info[5]), f32(info[6]), i64(info[7]), i64(info[8]),
                                       typed<float>(info[9]), typed<float>(info[10]), typed<float>(info[11])))
BIND(BatchNorm, kernels::batch_norm_inference(typed<float>(info[0]), i64(info[1]), typed<float>(info[2]), i64(info[3]),
                                              typed<float>(info[4]), i64(info[5]), typed<float>(info[6]), i64(info[7]),
                                              typed<float>(info[8]), i64(info[9]), f32(info[10]), typed<float>(info[11])))
BIND(Lrn, kernels::lrn(typed<float>(info[0]), i64(info[1]), i64(info[2]), i32(info[3]), f32(info[4]), f32(info[5]), f32(info[6]),
                       typed<float>(info[7])))
BIND(LrnGrad, kernels::lrn_grad(typed<float>(info[0]), typed<float>(info[1]), typed<float>(info[2]), i64(info[3]), i64(info[4]),
                                i32(info[5]), f32(info[6]), f32(info[7]), f32(info[8]), typed<float>(info[9])))
BIND(SgdUpdate, kernels::sgd_update(typed<float>(info[0]), typed<float>(info[1]), typed<float>(info[2]), i64(info[3]), f32(info[4]),
                                    f32(info[5]), flag(info[6]), f32(info[7]), typed<float>(info[8]), typed<float>(info[9])))

Napi::Value Precision(Info info) {
  return guard(info, [&](Napi::Env env) -> Napi::Value {
    if (info.Length() > 0) gemm::set_precision(i32(info[0]));
    return Napi::Number::New(env, gemm::precision());
  });
}
Napi::Value GemmEngine(Info info) {
  return guard(info, [&](Napi::Env env) -> Napi::Value {
    if (info.Length() > 0) gemm::set_engine(i32(info[0]));
    return Napi::Number::New(env, gemm::engine());
  });
}
Napi::Value Cublas(Info info) {
  return guard(info, [&](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loaded", gemm::cublas_loaded());
    o.Set("status", gemm::cublas_status());
    return o;
  });
}

Napi::Value Supports(Info info) {
  return guard(info, [&](Napi::Env env) -> Napi::Value {
    std::string kind = info[0].As<Napi::String>();
    int op = i32(info[1]), dtype = i32(info[2]);
    bool ok = kind == "unary" ? kernels::unary_supports(op, dtype) : kernels::binary_supports(op, dtype);
    return Napi::Boolean::New(env, ok);
  });
}

Napi::Value OpNames(Info info) {
  Napi::Env env = info.Env();
  auto list = [&](std::initializer_list<const char*> names) {
    Napi::Array a = Napi::Array::New(env, names.size());
    uint32_t i = 0;
    for (const char* n : names) a.Set(i++, n);
    return a;
  };
#define RT_NAME(name) #name,
  Napi::Object o = Napi::Object::New(env);
  o.Set("unary", list({RT_UNARY_OPS(RT_NAME)}));
  o.Set("binary", list({RT_BINARY_OPS(RT_NAME)}));
  o.Set("reduce", list({RT_REDUCE_OPS(RT_NAME)}));
#undef RT_NAME
  return o;
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, Napi::Function::Callback> functions[] = {
      {"init", Init}, {"malloc", Malloc}, {"free", Free}, {"upload", Upload}, {"download", Download},
      {"copy", Copy}, {"memset", Memset}, {"synchronize", Synchronize}, {"memInfo", MemInfo},
      {"releaseScratch", ReleaseScratch}, {"unary", Unary}, {"binary", Binary}, {"select", Select},
      {"cast", Cast}, {"fill", Fill}, {"transpose", Transpose}, {"slice", Slice}, {"pad", Pad}, {"tile", Tile},
      {"copyColumns", CopyColumns}, {"oneHot", OneHot}, {"gather", Gather}, {"reduce", Reduce},
      {"softmax", Softmax}, {"conv2d", Conv2d}, {"conv2dBackpropFilter", Conv2dBackpropFilter},
      {"conv2dBackpropInput", Conv2dBackpropInput}, {"biasActivation", BiasActivation}, {"matmul", Matmul},
      {"pool", Pool}, {"poolGrad", PoolGrad}, {"batchNormTraining", BatchNormTraining},
      {"batchNormTrainingGrad", BatchNormTrainingGrad}, {"batchNorm", BatchNorm}, {"lrn", Lrn},
      {"lrnGrad", LrnGrad}, {"sgdUpdate", SgdUpdate}, {"precision", Precision}, {"gemmEngine", GemmEngine},
      {"cublas", Cublas}, {"supports", Supports}, {"opNames", OpNames},
  };
  for (const auto& [name, fn] : functions) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}

}  // namespace

NODE_API_MODULE(tfjs_cuda, Module)
