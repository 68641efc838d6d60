// One optimiser step per parameter in one pass: through tfjs's engine, SGD with momentum, Nesterov
// and decoupled weight decay is six small kernels per parameter (about 400 per ResNet-20 step).
#include "optimizer.hpp"

#include <omp.h>

#include "common.hpp"

namespace onednn_addon {

namespace {
constexpr int64_t kParallelThreshold = 1 << 17;
}  // namespace

// sgdUpdate(param, grad, velocity | null, paramOut, velocityOut | null, lr, momentum, nesterov, keep):
//   v' = v * momentum + g;  d = nesterov ? g + v' * momentum : v'  (d = g without a velocity)
//   p' = p * keep - d * lr  (keep = 1 - lr * weightDecay)
// Each step rounds to float exactly as the same sequence of tfjs float32 ops does.
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "param: expected a Float32Array");
  const size_t n = info[0].As<Napi::TypedArray>().ElementLength();
  const float* p = float_data(info[0], n, "param");
  const float* g = float_data(info[1], n, "grad");
  const float* v = optional_float_data(info[2], n, "velocity");
  float* p_out = float_data(info[3], n, "paramOut");
  float* v_out = v ? float_data(info[4], n, "velocityOut") : nullptr;
  const float lr = info[5].As<Napi::Number>().FloatValue();
  const float momentum = info[6].As<Napi::Number>().FloatValue();
  const bool nesterov = info[7].ToBoolean().Value();
  const float keep = info[8].As<Napi::Number>().FloatValue();
  const int64_t size = static_cast<int64_t>(n);
#pragma omp parallel for schedule(static) if (size > kParallelThreshold)
  for (int64_t i = 0; i < size; i++) {
    float d = g[i];
    if (v) {
      const float velocity = v[i] * momentum + g[i];
      v_out[i] = velocity;
      d = nesterov ? g[i] + velocity * momentum : velocity;
    }
    p_out[i] = p[i] * keep - d * lr;  // p * 1 is p exactly, so no decay needs no special case
  }
  return info.Env().Undefined();
}

}  // namespace onednn_addon
