// N-API entry point: exposes the oneDNN kernels and the thread settings to JavaScript.
#include <napi.h>
#include <malloc.h>
#include <omp.h>

#include <cstdlib>

#include <dnnl.hpp>

#include "common.hpp"
#include "conv.hpp"
#include "elementwise.hpp"
#include "matmul.hpp"
#include "optimizer.hpp"
#include "pooling.hpp"
#include "batchnorm.hpp"

namespace onednn_addon {

static Napi::Value Version(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  auto result = Napi::Object::New(info.Env());
  result.Set("major", v->major);
  result.Set("minor", v->minor);
  result.Set("patch", v->patch);
  result.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : "other");
  return result;
}

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int threads = info[0].As<Napi::Number>().Int32Value();
  if (threads < 1) throw Napi::RangeError::New(info.Env(), "threads: expected a positive integer");
  omp_set_num_threads(threads);
  return info.Env().Undefined();
}

static Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

// primitiveCache(limit | undefined) → { size, limit, hits, misses }: sets the most entries kept (the least
// recently used beyond it are freed) and reports the state.
static Napi::Value PrimitiveCacheState(const Napi::CallbackInfo& info) {
  auto& cache = PrimitiveCache::instance();
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    const double limit = info[0].As<Napi::Number>().DoubleValue();
    if (!(limit >= 1 && limit <= 1e9) || limit != static_cast<double>(static_cast<size_t>(limit)))
      throw Napi::RangeError::New(info.Env(), "limit: expected an integer from 1 to 1e9");
    cache.set_limit(static_cast<size_t>(limit));
  }
  auto result = Napi::Object::New(info.Env());
  result.Set("size", static_cast<double>(cache.size()));
  result.Set("limit", static_cast<double>(cache.limit()));
  result.Set("hits", cache.hits());
  result.Set("misses", cache.misses());
  result.Set("weightCopies", static_cast<double>(weight_copies()));
  return result;
}

static Napi::Value ClearPrimitiveCache(const Napi::CallbackInfo& info) {
  PrimitiveCache::instance().clear();
  clear_weight_copies();
  return info.Env().Undefined();
}

// forgetWeights(version): the tensor whose data has this version was disposed of.
static Napi::Value ForgetWeights(const Napi::CallbackInfo& info) {
  forget_weights(info[0].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// convLayout(policy | undefined) → policy: 0 timed, 1 plain, 2 blocked.
static Napi::Value ConvLayout(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    const int policy = info[0].As<Napi::Number>().Int32Value();
    if (policy < 0 || policy > 2) throw Napi::RangeError::New(info.Env(), "policy: expected 0, 1 or 2");
    set_conv_layout_policy(static_cast<ConvLayoutPolicy>(policy));
  }
  return Napi::Number::New(info.Env(), static_cast<int>(conv_layout_policy()));
}

// Converts oneDNN's exceptions into JavaScript errors that say which call failed.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
static Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("onednn addon: ") + e.what());
  }
}

// Every kernel returns a fresh multi-megabyte Float32Array. glibc serves such sizes with mmap and
// unmaps them on free, so each op paid page faults on untouched memory; keeping them on the heap
// (up to the 32 MiB maximum) lets freed buffers be reused. ONEDNN_KEEP_MALLOC=1 opts out.
static void tune_malloc() {
  const char* keep = std::getenv("ONEDNN_KEEP_MALLOC");
  if (keep && keep[0] == '1') return;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tune_malloc();
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("primitiveCache", Napi::Function::New(env, PrimitiveCacheState));
  exports.Set("clearPrimitiveCache", Napi::Function::New(env, ClearPrimitiveCache));
  exports.Set("convLayout", Napi::Function::New(env, ConvLayout));
  exports.Set("forgetWeights", Napi::Function::New(env, ForgetWeights));
  exports.Set("conv2d", Napi::Function::New(env, Guarded<Conv2D>));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Guarded<Conv2DBackpropInput>));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Guarded<Conv2DBackpropFilter>));
  exports.Set("binary", Napi::Function::New(env, Guarded<Binary>));
  exports.Set("unary", Napi::Function::New(env, Guarded<Unary>));
  exports.Set("reduce", Napi::Function::New(env, Guarded<Reduce>));
  exports.Set("tile", Napi::Function::New(env, Guarded<Tile>));
  exports.Set("slice", Napi::Function::New(env, Guarded<Slice>));
  exports.Set("pad", Napi::Function::New(env, Guarded<Pad>));
  exports.Set("matmul", Napi::Function::New(env, Guarded<MatMul>));
  exports.Set("pool", Napi::Function::New(env, Guarded<Pool>));
  exports.Set("poolBackward", Napi::Function::New(env, Guarded<PoolBackward>));
  exports.Set("batchNormForward", Napi::Function::New(env, Guarded<BatchNormForward>));
  exports.Set("batchNormBackward", Napi::Function::New(env, Guarded<BatchNormBackward>));
  exports.Set("batchNormTraining", Napi::Function::New(env, Guarded<BatchNormTraining>));
  exports.Set("batchNormTrainingGrad", Napi::Function::New(env, Guarded<BatchNormTrainingGrad>));
  exports.Set("sgdUpdate", Napi::Function::New(env, Guarded<SgdUpdate>));
  // Op and policy codes by name, so that the JS side never writes a bare number.
  auto codes = ElementwiseOpCodes(env);
  auto conv = ConvOpCodes(env);
  codes.Set("activation", conv.Get("activation"));
  codes.Set("convLayout", conv.Get("convLayout"));
  exports.Set("opCodes", codes);
  return exports;
}

NODE_API_MODULE(onednn, Init)

}  // namespace onednn_addon
