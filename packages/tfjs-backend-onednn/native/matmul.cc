// Batched matrix multiplication (tfjs BatchMatMul / _FusedMatMul) through oneDNN: transposes are
// expressed as strides, batch dimensions of size 1 broadcast, bias and activation are post-ops.
#include "matmul.hpp"

#include "common.hpp"
#include "conv.hpp"
#include "dnnl_compat.hpp"

namespace onednn_addon {

using dnnl::memory;
using dt = memory::data_type;

namespace {

// params: batchA, batchB, M, K, N, transposeA, transposeB
constexpr size_t kMatMulParams = 7;

struct MatMulEntry : CacheEntry {
  dnnl::matmul prim;
  memory::desc src, weights, dst, bias;
};

}  // namespace

// matmul(params, a, b, bias | null, out, activation, alpha)
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  auto p = int_params(info[0], kMatMulParams, "params");
  const int64_t batch_a = p[0], batch_b = p[1], M = p[2], K = p[3], N = p[4];
  const bool ta = p[5] != 0, tb = p[6] != 0;
  const int64_t batch = std::max(batch_a, batch_b);
  float* a = float_data(info[1], static_cast<size_t>(batch_a * M * K), "a");
  float* b = float_data(info[2], static_cast<size_t>(batch_b * K * N), "b");
  float* bias = optional_float_data(info[3], static_cast<size_t>(N), "bias");
  float* out = float_data(info[4], static_cast<size_t>(batch * M * N), "out");
  const int activation = info[5].As<Napi::Number>().Int32Value();
  const float alpha = info[6].As<Napi::Number>().FloatValue();

  auto& e = cached<MatMulEntry>(key_of("matmul", p, (bias ? 1 : 0) + 2 * activation), [&] {
    auto entry = std::make_unique<MatMulEntry>();
    entry->src = memory::desc({batch_a, M, K}, dt::f32, ta ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
    entry->weights = memory::desc({batch_b, K, N}, dt::f32, tb ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
    entry->dst = memory::desc({batch, M, N}, dt::f32, memory::dims{M * N, N, 1});
    entry->bias = memory::desc({1, 1, N}, dt::f32, memory::dims{N, N, 1});
    auto pd = onednn_compat::matmul_pd(cpu_engine(), entry->src, entry->weights, bias ? &entry->bias : nullptr,
                                       entry->dst, activation_attr(activation, alpha));
    entry->prim = dnnl::matmul(pd);
    return entry;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(e.src, cpu_engine(), a)},
                                       {DNNL_ARG_WEIGHTS, memory(e.weights, cpu_engine(), b)},
                                       {DNNL_ARG_DST, memory(e.dst, cpu_engine(), out)}};
  if (bias) args[DNNL_ARG_BIAS] = memory(e.bias, cpu_engine(), bias);
  e.prim.execute(cpu_stream(), args);
  cpu_stream().wait();
  return info.Env().Undefined();
}

}  // namespace onednn_addon
