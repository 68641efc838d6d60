// Max and average pooling, forward and backward, on NHWC tensors through oneDNN.
#include "pooling.hpp"

#include "common.hpp"
#include "dnnl_compat.hpp"

namespace onednn_addon {

using dnnl::algorithm;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// params: N, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR
constexpr size_t kPoolParams = 14;

struct PoolShape {
  memory::desc src, dst;
  memory::dims strides, kernel, pad_l, pad_r;
  size_t src_size, dst_size;

  explicit PoolShape(const std::vector<int64_t>& p)
      : src({p[0], p[3], p[1], p[2]}, dt::f32, tag::nhwc),
        dst({p[0], p[3], p[4], p[5]}, dt::f32, tag::nhwc),
        strides{p[8], p[9]},
        kernel{p[6], p[7]},
        pad_l{p[10], p[11]},
        pad_r{p[12], p[13]},
        src_size(static_cast<size_t>(p[0] * p[1] * p[2] * p[3])),
        dst_size(static_cast<size_t>(p[0] * p[4] * p[5] * p[3])) {}

  dnnl::pooling_forward::primitive_desc forward(dnnl::prop_kind prop, algorithm alg) const {
    return onednn_compat::pooling_forward_pd(cpu_engine(), prop, alg, src, dst, strides, kernel, pad_l, pad_r);
  }
};

// tfjs averages over the valid window in the forward pass but divides by the full window in
// AvgPoolGrad (on every backend); both are reproduced so gradients agree with tfjs.
algorithm forward_algorithm(int is_max) { return is_max ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding; }
algorithm backward_algorithm(int is_max) { return is_max ? algorithm::pooling_max : algorithm::pooling_avg_include_padding; }

struct PoolForwardEntry : CacheEntry {
  dnnl::pooling_forward prim;
};

struct PoolBackwardEntry : CacheEntry {
  dnnl::pooling_forward forward;  // max pooling: recomputes the workspace (argmax positions)
  dnnl::pooling_backward prim;
  memory workspace, scratch_dst;
  bool is_max = false;
};

}  // namespace

// pool(params, isMax, x, out)
Napi::Value Pool(const Napi::CallbackInfo& info) {
  auto p = int_params(info[0], kPoolParams, "params");
  const int is_max = info[1].As<Napi::Number>().Int32Value();
  PoolShape s(p);
  float* x = float_data(info[2], s.src_size, "x");
  float* out = float_data(info[3], s.dst_size, "out");
  auto& e = cached<PoolForwardEntry>(key_of("pool_fwd", p, is_max), [&] {
    auto entry = std::make_unique<PoolForwardEntry>();
    entry->prim = dnnl::pooling_forward(s.forward(dnnl::prop_kind::forward_inference, forward_algorithm(is_max)));
    return entry;
  });
  e.prim.execute(cpu_stream(), {{DNNL_ARG_SRC, memory(s.src, cpu_engine(), x)},
                                {DNNL_ARG_DST, memory(s.dst, cpu_engine(), out)}});
  cpu_stream().wait();
  return info.Env().Undefined();
}

// poolBackward(params, isMax, dy, x | null, dx): x is needed for max pooling only.
Napi::Value PoolBackward(const Napi::CallbackInfo& info) {
  auto p = int_params(info[0], kPoolParams, "params");
  const int is_max = info[1].As<Napi::Number>().Int32Value();
  PoolShape s(p);
  float* dy = float_data(info[2], s.dst_size, "dy");
  float* x = is_max ? float_data(info[3], s.src_size, "x") : nullptr;
  float* dx = float_data(info[4], s.src_size, "dx");
  auto& e = cached<PoolBackwardEntry>(key_of("pool_bwd", p, is_max), [&] {
    auto entry = std::make_unique<PoolBackwardEntry>();
    const auto alg = backward_algorithm(is_max);
    auto hint = s.forward(dnnl::prop_kind::forward_training, alg);
    auto pd = onednn_compat::pooling_backward_pd(cpu_engine(), alg, s.src, s.dst, s.strides, s.kernel, s.pad_l,
                                                 s.pad_r, hint);
    entry->prim = dnnl::pooling_backward(pd);
    entry->is_max = is_max;
    if (is_max) {
      entry->forward = dnnl::pooling_forward(hint);
      entry->workspace = memory(hint.workspace_desc(), cpu_engine());
      entry->scratch_dst = memory(s.dst, cpu_engine());
    }
    return entry;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, memory(s.dst, cpu_engine(), dy)},
                                       {DNNL_ARG_DIFF_SRC, memory(s.src, cpu_engine(), dx)}};
  if (e.is_max) {
    e.forward.execute(cpu_stream(), {{DNNL_ARG_SRC, memory(s.src, cpu_engine(), x)},
                                     {DNNL_ARG_DST, e.scratch_dst},
                                     {DNNL_ARG_WORKSPACE, e.workspace}});
    args[DNNL_ARG_WORKSPACE] = e.workspace;
  }
  e.prim.execute(cpu_stream(), args);
  cpu_stream().wait();
  return info.Env().Undefined();
}

}  // namespace onednn_addon
