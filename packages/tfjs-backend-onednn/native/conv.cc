// 2-D convolution forward (with fused bias and activation), backward-data and backward-weights
// on tfjs's layouts: activations NHWC, filters HWIO ([kh, kw, in, out]). Weights always take the
// layout oneDNN prefers; for activations, every shape and direction is timed once on plain NHWC and
// once on oneDNN's preferred layouts (reordered at the boundary), and keeps the faster.
#include "conv.hpp"

#include <chrono>

#include "common.hpp"
#include "dnnl_compat.hpp"

namespace onednn_addon {

using dnnl::algorithm;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// params: N, H, W, C, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL, PB, PR
constexpr size_t kConvParams = 17;

struct ConvShape {
  memory::dims src, weights, dst, bias, strides, dilates, pad_l, pad_r;
  size_t src_size, weights_size, dst_size;
  int64_t out_channels;

  explicit ConvShape(const std::vector<int64_t>& p) {
    const int64_t N = p[0], H = p[1], W = p[2], C = p[3], KH = p[4], KW = p[5], OC = p[6], OH = p[7], OW = p[8];
    src = {N, C, H, W};
    weights = {OC, C, KH, KW};
    dst = {N, OC, OH, OW};
    bias = {OC};
    strides = {p[9], p[10]};
    dilates = {p[11] - 1, p[12] - 1};
    pad_l = {p[13], p[14]};
    pad_r = {p[15], p[16]};
    src_size = static_cast<size_t>(N * H * W * C);
    weights_size = static_cast<size_t>(KH * KW * C * OC);
    dst_size = static_cast<size_t>(N * OH * OW * OC);
    out_channels = OC;
  }

  memory::desc user_src() const { return {src, dt::f32, tag::nhwc}; }
  memory::desc user_weights() const { return {weights, dt::f32, tag::hwio}; }
  memory::desc user_dst() const { return {dst, dt::f32, tag::nhwc}; }
  memory::desc any(const memory::dims& dims) const { return {dims, dt::f32, tag::any}; }

  dnnl::convolution_forward::primitive_desc forward_pd(dnnl::prop_kind prop, bool with_bias,
                                                       const dnnl::primitive_attr& attr, bool plain = false) const {
    memory::desc bias_md(bias, dt::f32, tag::x);
    return onednn_compat::conv_forward_pd(cpu_engine(), prop, plain ? user_src() : any(src), any(weights),
                                          with_bias ? &bias_md : nullptr, plain ? user_dst() : any(dst), strides,
                                          dilates, pad_l, pad_r, attr);
  }
};

}  // namespace

// Activation codes shared with src/native.ts.
enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoid = 5 };

dnnl::primitive_attr activation_attr(int activation, float alpha) {
  dnnl::primitive_attr attr;
  if (activation == kLinear) return attr;
  dnnl::post_ops ops;
  switch (activation) {
    case kRelu: onednn_compat::append_eltwise(ops, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: onednn_compat::append_eltwise(ops, algorithm::eltwise_clip, 0.f, 6.f); break;
    case kElu: onednn_compat::append_eltwise(ops, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kLeakyRelu: onednn_compat::append_eltwise(ops, algorithm::eltwise_relu, alpha, 0.f); break;
    case kSigmoid: onednn_compat::append_eltwise(ops, algorithm::eltwise_logistic, 0.f, 0.f); break;
    default: break;
  }
  attr.set_post_ops(ops);
  return attr;
}

namespace {

struct ConvForward : CacheEntry {
  dnnl::convolution_forward prim;
  Staged src, weights, dst;
};

struct ConvBackwardData : CacheEntry {
  dnnl::convolution_backward_data prim;
  Staged diff_dst, weights, diff_src;
};

struct ConvBackwardWeights : CacheEntry {
  dnnl::convolution_backward_weights prim;
  Staged src, diff_dst, diff_weights;
};

}  // namespace

// Which layouts a primitive gets: plain NHWC is faster for some shapes (no reorders at the kernel
// boundary), oneDNN's blocked layouts for others. The two sum in different orders, so the choice
// shows in the last bits of the results: `timed` (the default) times each shape once both ways and
// keeps the faster, which is not repeatable from one process to the next when the machine is busy;
// `plain` and `blocked` fix the choice, so that two processes compute the same bits.
enum class Layout { kPlain, kBlocked };

namespace {
ConvLayoutPolicy g_layout_policy = ConvLayoutPolicy::kTimed;
}  // namespace

void set_conv_layout_policy(ConvLayoutPolicy policy) {
  if (policy == g_layout_policy) return;
  g_layout_policy = policy;
  PrimitiveCache::instance().clear();  // cached primitives were made under the old policy
}

ConvLayoutPolicy conv_layout_policy() { return g_layout_policy; }

template <typename Entry, typename Make, typename Run>
Entry& tuned(const std::string& key, Make make, Run run) {
  return cached<Entry>(key, [&] {
    if (g_layout_policy != ConvLayoutPolicy::kTimed)
      return make(g_layout_policy == ConvLayoutPolicy::kPlain ? Layout::kPlain : Layout::kBlocked);
    std::unique_ptr<Entry> best;
    double best_seconds = 0;
    for (Layout layout : {Layout::kPlain, Layout::kBlocked}) {
      auto candidate = make(layout);
      run(*candidate);  // first run includes JIT warm-up
      const auto start = std::chrono::steady_clock::now();
      run(*candidate);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!best || seconds < best_seconds) {
        best = std::move(candidate);
        best_seconds = seconds;
      }
    }
    return best;
  });
}

static void run_forward(ConvForward& e, float* x, float* w, float* bias, float* out, const memory::dims& bias_dims) {
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, e.src.stage_in(x)},
      {DNNL_ARG_WEIGHTS, e.weights.stage_in(w)},
      {DNNL_ARG_DST, e.dst.stage_out(out)},
  };
  if (bias) args[DNNL_ARG_BIAS] = memory({bias_dims, dt::f32, tag::x}, cpu_engine(), bias);
  e.prim.execute(cpu_stream(), args);
  e.dst.finish_out(out);
  cpu_stream().wait();
}

// conv2d(params, x, filter, bias | null, out, activation, alpha)
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  auto p = int_params(info[0], kConvParams, "params");
  ConvShape s(p);
  float* x = float_data(info[1], s.src_size, "x");
  float* w = float_data(info[2], s.weights_size, "filter");
  float* bias = optional_float_data(info[3], static_cast<size_t>(s.out_channels), "bias");
  float* out = float_data(info[4], s.dst_size, "out");
  const int activation = info[5].As<Napi::Number>().Int32Value();
  const float alpha = info[6].As<Napi::Number>().FloatValue();
  const int64_t variant = (bias ? 1 : 0) + 2 * activation;

  auto& e = tuned<ConvForward>(
      key_of("conv_fwd", p, variant),
      [&](Layout layout) {
        auto entry = std::make_unique<ConvForward>();
        auto pd = s.forward_pd(dnnl::prop_kind::forward_inference, bias != nullptr, activation_attr(activation, alpha),
                               layout == Layout::kPlain);
        entry->prim = dnnl::convolution_forward(pd);
        entry->src = Staged(s.user_src(), pd.src_desc(), true, false);
        entry->weights = Staged(s.user_weights(), pd.weights_desc(), true, false);
        entry->dst = Staged(s.user_dst(), pd.dst_desc(), false, true);
        return entry;
      },
      [&](ConvForward& candidate) { run_forward(candidate, x, w, bias, out, s.bias); });
  run_forward(e, x, w, bias, out, s.bias);
  return info.Env().Undefined();
}

static void run_backward_data(ConvBackwardData& e, float* dy, float* w, float* dx) {
  e.prim.execute(cpu_stream(), {
                                   {DNNL_ARG_DIFF_DST, e.diff_dst.stage_in(dy)},
                                   {DNNL_ARG_WEIGHTS, e.weights.stage_in(w)},
                                   {DNNL_ARG_DIFF_SRC, e.diff_src.stage_out(dx)},
                               });
  e.diff_src.finish_out(dx);
  cpu_stream().wait();
}

static void run_backward_weights(ConvBackwardWeights& e, float* x, float* dy, float* dw) {
  e.prim.execute(cpu_stream(), {
                                   {DNNL_ARG_SRC, e.src.stage_in(x)},
                                   {DNNL_ARG_DIFF_DST, e.diff_dst.stage_in(dy)},
                                   {DNNL_ARG_DIFF_WEIGHTS, e.diff_weights.stage_out(dw)},
                               });
  e.diff_weights.finish_out(dw);
  cpu_stream().wait();
}

// conv2dBackpropInput(params, dy, filter, dx)
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  auto p = int_params(info[0], kConvParams, "params");
  ConvShape s(p);
  float* dy = float_data(info[1], s.dst_size, "dy");
  float* w = float_data(info[2], s.weights_size, "filter");
  float* dx = float_data(info[3], s.src_size, "dx");

  auto& e = tuned<ConvBackwardData>(
      key_of("conv_bwd_data", p),
      [&](Layout layout) {
        auto entry = std::make_unique<ConvBackwardData>();
        const bool plain = layout == Layout::kPlain;
        auto hint = s.forward_pd(dnnl::prop_kind::forward_training, false, {});
        auto pd = onednn_compat::conv_backward_data_pd(
            cpu_engine(), plain ? s.user_src() : s.any(s.src), s.any(s.weights), plain ? s.user_dst() : s.any(s.dst),
            s.strides, s.dilates, s.pad_l, s.pad_r, hint);
        entry->prim = dnnl::convolution_backward_data(pd);
        entry->diff_dst = Staged(s.user_dst(), pd.diff_dst_desc(), true, false);
        entry->weights = Staged(s.user_weights(), pd.weights_desc(), true, false);
        entry->diff_src = Staged(s.user_src(), pd.diff_src_desc(), false, true);
        return entry;
      },
      [&](ConvBackwardData& candidate) { run_backward_data(candidate, dy, w, dx); });
  run_backward_data(e, dy, w, dx);
  return info.Env().Undefined();
}

// conv2dBackpropFilter(params, x, dy, dw)
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  auto p = int_params(info[0], kConvParams, "params");
  ConvShape s(p);
  float* x = float_data(info[1], s.src_size, "x");
  float* dy = float_data(info[2], s.dst_size, "dy");
  float* dw = float_data(info[3], s.weights_size, "dw");

  auto& e = tuned<ConvBackwardWeights>(
      key_of("conv_bwd_weights", p),
      [&](Layout layout) {
        auto entry = std::make_unique<ConvBackwardWeights>();
        const bool plain = layout == Layout::kPlain;
        auto hint = s.forward_pd(dnnl::prop_kind::forward_training, false, {});
        auto pd = onednn_compat::conv_backward_weights_pd(
            cpu_engine(), plain ? s.user_src() : s.any(s.src), s.any(s.weights), plain ? s.user_dst() : s.any(s.dst),
            s.strides, s.dilates, s.pad_l, s.pad_r, hint);
        entry->prim = dnnl::convolution_backward_weights(pd);
        entry->src = Staged(s.user_src(), pd.src_desc(), true, false);
        entry->diff_dst = Staged(s.user_dst(), pd.diff_dst_desc(), true, false);
        entry->diff_weights = Staged(s.user_weights(), pd.diff_weights_desc(), false, true);
        return entry;
      },
      [&](ConvBackwardWeights& candidate) { run_backward_weights(candidate, x, dy, dw); });
  run_backward_weights(e, x, dy, dw);
  return info.Env().Undefined();
}

}  // namespace onednn_addon
