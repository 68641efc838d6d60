// 2-D convolution forward (with fused bias, activation and residual shortcut), backward-data and
// backward-weights on tfjs's layouts: activations NHWC, filters HWIO ([kh, kw, in, out]). Weights
// always take the layout oneDNN prefers (reordered once per weight tensor in the forward pass); for
// activations, every shape and direction is timed on plain NHWC and on oneDNN's preferred layouts
// (reordered at the boundary) and keeps the faster; forward convolutions also time oneDNN's second
// implementation, Winograd where it can win, and one thread for small work.
#include "conv.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

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
    macs_ = N * OH * OW * OC * C * KH * KW;
  }

  // Multiply-adds of the forward convolution.
  int64_t macs() const { return macs_; }
  int64_t macs_ = 0;

  memory::desc user_src() const { return {src, dt::f32, tag::nhwc}; }
  memory::desc user_weights() const { return {weights, dt::f32, tag::hwio}; }
  memory::desc user_dst() const { return {dst, dt::f32, tag::nhwc}; }
  memory::desc any(const memory::dims& dims) const { return {dims, dt::f32, tag::any}; }

  dnnl::convolution_forward::primitive_desc forward_pd(dnnl::prop_kind prop, bool with_bias,
                                                       const dnnl::primitive_attr& attr, bool plain = false,
                                                       int impl = 0, bool* found = nullptr,
                                                       algorithm alg = algorithm::convolution_direct) const {
    memory::desc bias_md(bias, dt::f32, tag::x);
    return onednn_compat::conv_forward_pd(cpu_engine(), prop, plain ? user_src() : any(src), any(weights),
                                          with_bias ? &bias_md : nullptr, plain ? user_dst() : any(dst), strides,
                                          dilates, pad_l, pad_r, attr, impl, found, alg);
  }

  // Where oneDNN's Winograd F(4x4, 3x3) kernel was measured faster than direct convolution here:
  // 3x3, stride 1, at least 32 channels in and out, small images (ResNet-50's 14x14 and 7x7
  // stages: 1.5-1.8x; at 56x56 it is several times slower, so it is not even timed there).
  bool winograd_candidate() const {
    return weights[2] == 3 && weights[3] == 3 && strides[0] == 1 && strides[1] == 1 && dilates[0] == 0 &&
           dilates[1] == 0 && weights[0] >= 32 && weights[1] >= 32 && dst[2] * dst[3] <= 256;
  }
};

}  // namespace

// Activation codes, exported by name (ConvOpCodes).
enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoid = 5 };

static void append_activation(dnnl::post_ops& ops, int activation, float alpha) {
  switch (activation) {
    case kRelu: onednn_compat::append_eltwise(ops, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: onednn_compat::append_eltwise(ops, algorithm::eltwise_clip, 0.f, 6.f); break;
    case kElu: onednn_compat::append_eltwise(ops, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kLeakyRelu: onednn_compat::append_eltwise(ops, algorithm::eltwise_relu, alpha, 0.f); break;
    case kSigmoid: onednn_compat::append_eltwise(ops, algorithm::eltwise_logistic, 0.f, 0.f); break;
    default: break;
  }
}

dnnl::primitive_attr activation_attr(int activation, float alpha) {
  dnnl::primitive_attr attr;
  if (activation == kLinear) return attr;
  dnnl::post_ops ops;
  append_activation(ops, activation, alpha);
  attr.set_post_ops(ops);
  return attr;
}

// How a residual convolution adds its shortcut. kAddInput: the shortcut has the output's shape and
// is read by a binary post-op, next to the convolution's own reads; kAddPrefilled: it is first
// written into the output (subsampled and zero-padded, option A) and added by a sum post-op.
enum class ShortcutMode { kNone, kAddInput, kAddPrefilled };

// conv + bias, + the shortcut, then the activation.
static dnnl::primitive_attr residual_attr(int activation, float alpha, ShortcutMode mode, const memory::desc& shortcut_md) {
  dnnl::primitive_attr attr;
  dnnl::post_ops ops;
  if (mode == ShortcutMode::kAddInput) {
    onednn_compat::append_binary(ops, algorithm::binary_add, shortcut_md);
  } else {
    onednn_compat::append_sum(ops, 1.f);
  }
  append_activation(ops, activation, alpha);
  attr.set_post_ops(ops);
  return attr;
}

namespace {

struct ConvForward : CacheEntry {
  dnnl::convolution_forward prim;
  Staged src, weights, dst;
  // OpenMP threads it was made for and runs on; 0: the current setting.
  int threads = 0;
  ShortcutMode shortcut_mode = ShortcutMode::kNone;
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

// `make(layout, candidate)` builds the entry for one of `candidates` ways of running the op in
// that layout (candidate 0: oneDNN's preferred implementation), or returns null when that way does
// not exist. Fixed policies take candidate 0; `timed` times every candidate in both layouts and
// keeps the fastest.
template <typename Entry, typename Make, typename Run>
Entry& tuned(const std::string& key, Make make, Run run, int candidates = 1) {
  return cached<Entry>(key, [&] {
    if (g_layout_policy != ConvLayoutPolicy::kTimed) {
      auto fixed = make(g_layout_policy == ConvLayoutPolicy::kPlain ? Layout::kPlain : Layout::kBlocked, 0);
      if (!fixed) fixed = make(Layout::kPlain, 0);  // the other layout has no implementation
      if (!fixed) throw std::runtime_error("no convolution implementation for " + key);
      return fixed;
    }
    std::unique_ptr<Entry> best;
    double best_seconds = 0;
    for (Layout layout : {Layout::kPlain, Layout::kBlocked}) {
      for (int index = 0; index < candidates; index++) {
        auto candidate = make(layout, index);
        if (!candidate) continue;
        run(*candidate);  // first run includes JIT warm-up
        // The fastest of up to 3 runs (one for runs over 10 ms): a busy machine slows some runs.
        double seconds = 0;
        for (int r = 0; r < 3 && (r == 0 || seconds < 0.01); r++) {
          const auto start = std::chrono::steady_clock::now();
          run(*candidate);
          const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          seconds = r == 0 ? t : std::min(seconds, t);
        }
        if (!best || seconds < best_seconds) {
          best = std::move(candidate);
          best_seconds = seconds;
        }
      }
    }
    if (!best) throw std::runtime_error("no convolution implementation for " + key);
    return best;
  });
}

// The shortcut a residual convolution adds to its output, as the block computes it: the input of
// the block, optionally subsampled (x[:, ::stride, ::stride, :], option A) and zero-padded along
// the channels (`before` zeros, then its channels, then zeros up to the output's channels).
struct Shortcut {
  const float* data = nullptr;
  int64_t height = 0, width = 0, channels = 0, stride = 1, before = 0;
};

// Writes the shortcut into the (NHWC) output, which the convolution's sum post-op then adds to.
static void fill_shortcut(const Shortcut& sc, float* out, int64_t N, int64_t OH, int64_t OW, int64_t OC) {
  const int64_t rows = N * OH * OW;
  if (sc.stride == 1 && sc.channels == OC && sc.height == OH && sc.width == OW) {
    const int64_t total = rows * OC;
    constexpr int64_t kChunk = 1 << 16;
#pragma omp parallel for schedule(static) if (total > (1 << 17))
    for (int64_t begin = 0; begin < total; begin += kChunk)
      std::memcpy(out + begin, sc.data + begin, sizeof(float) * static_cast<size_t>(std::min(kChunk, total - begin)));
    return;
  }
  const int64_t after = OC - sc.before - sc.channels;
#pragma omp parallel for schedule(static) if (rows * OC > (1 << 17))
  for (int64_t row = 0; row < rows; row++) {
    const int64_t n = row / (OH * OW), oh = (row / OW) % OH, ow = row % OW;
    const float* src = sc.data + ((n * sc.height + oh * sc.stride) * sc.width + ow * sc.stride) * sc.channels;
    float* dst = out + row * OC;
    std::fill(dst, dst + sc.before, 0.f);
    std::memcpy(dst + sc.before, src, sizeof(float) * static_cast<size_t>(sc.channels));
    std::fill(dst + sc.before + sc.channels, dst + sc.before + sc.channels + after, 0.f);
  }
}

// Forward convolutions time oneDNN's first two implementations per layout: on AVX-512, the
// brgemm-based one it lists first and its older direct JIT kernel, which is faster for some
// ResNet shapes (the small-channel 3x3 convolutions of CIFAR ResNets, those with a post-op).
constexpr int kForwardImpls = 2;

// Whether the `n`-th implementation is worth timing: the first always; beyond it only AVX-512 JIT
// kernels (the SSE/AVX2, GEMM and reference fallbacks are never faster where those exist).
static bool worth_timing(const dnnl::convolution_forward::primitive_desc& pd, int n) {
  return n == 0 || std::string(pd.impl_info_str()).find("avx512") != std::string::npos;
}

// oneDNN's GEMM and reference convolutions: what it falls back to where no JIT kernel takes the
// layouts and post-ops (in 2.6, a residual convolution on `any` layouts gets x64:gemm on NCHW,
// 10-20x slower than brgconv on NHWC).
static bool fallback_impl(const dnnl::convolution_forward::primitive_desc& pd) {
  const std::string impl = pd.impl_info_str();
  return impl.find("gemm") != std::string::npos || impl.find("ref") != std::string::npos;
}

// Runs a scope on `threads` OpenMP threads (0: as set), then restores the setting. oneDNN sizes a
// primitive's work split when it is made, so a primitive is made and run under the same count.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) {
    if (threads <= 0 || threads == omp_get_max_threads()) return;
    previous_ = omp_get_max_threads();
    omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (previous_ > 0) omp_set_num_threads(previous_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_ = 0;
};

// Convolutions this small are also timed on one thread: at batch 1 waking the other threads can
// cost more than the arithmetic they share (64 Mi multiply-adds is ~0.5 ms on one AVX-512 core).
constexpr int64_t kSingleThreadCandidateMacs = int64_t{1} << 26;

// Weights reordered into a primitive's layout, kept per tensor data (its version, which JS gives
// each tensor's data and which never changes) and layout: a model's convolutions reorder their
// weights on the first inference only, even where several layers share a shape (and so a
// primitive). Dropped when JS disposes of the tensor (forgetWeights) or the cache is cleared.
class WeightCopies {
 public:
  static WeightCopies& instance() {
    static WeightCopies copies;
    return copies;
  }
  // The copy of `version` in layout `md`, reordered from `user` with `to_prim` on first use.
  memory get(double version, const memory::desc& md, const dnnl::reorder& to_prim, memory user) {
    auto& list = by_version_[version];
    for (auto& m : list) {
      if (m.get_desc() == md) return m;
    }
    memory copy(md, cpu_engine());
    to_prim.execute(cpu_stream(), user, copy);
    list.push_back(copy);
    return copy;
  }
  void forget(double version) { by_version_.erase(version); }
  void clear() { by_version_.clear(); }
  size_t size() const { return by_version_.size(); }

 private:
  std::unordered_map<double, std::vector<memory>> by_version_;
};

void forget_weights(double version) { WeightCopies::instance().forget(version); }
void clear_weight_copies() { WeightCopies::instance().clear(); }
size_t weight_copies() { return WeightCopies::instance().size(); }

// Runs a forward convolution. Weights in a layout other than HWIO are reordered, once per tensor
// when JS names their data with a nonzero `weights_version`, else on every call.
static void run_forward(ConvForward& e, float* x, float* w, double weights_version, float* bias, float* out,
                        const memory::dims& bias_dims, const Shortcut* shortcut, const ConvShape& s) {
  ThreadScope scope(e.threads);
  memory weights_mem;
  if (e.weights.reorder_needed && weights_version != 0) {
    weights_mem = WeightCopies::instance().get(weights_version, e.weights.prim_md, e.weights.to_prim,
                                               memory(e.weights.user_md, cpu_engine(), w));
  } else {
    weights_mem = e.weights.stage_in(w);
  }
  memory dst_mem;
  if (e.shortcut_mode == ShortcutMode::kAddPrefilled) {
    fill_shortcut(*shortcut, out, s.dst[0], s.dst[2], s.dst[3], s.out_channels);
    dst_mem = e.dst.stage_in(out);  // the sum post-op reads it
  } else {
    dst_mem = e.dst.stage_out(out);
  }
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, e.src.stage_in(x)},
      {DNNL_ARG_WEIGHTS, weights_mem},
      {DNNL_ARG_DST, dst_mem},
  };
  if (e.shortcut_mode == ShortcutMode::kAddInput) {
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
        memory(s.user_dst(), cpu_engine(), const_cast<float*>(shortcut->data));
  }
  if (bias) args[DNNL_ARG_BIAS] = memory({bias_dims, dt::f32, tag::x}, cpu_engine(), bias);
  e.prim.execute(cpu_stream(), args);
  e.dst.finish_out(out);
  cpu_stream().wait();
}

// conv2d(params, x, filter, bias | null, out, activation, alpha, weightsVersion,
//        shortcut | null, shortcutParams | null, allowWinograd)
// shortcutParams: [height, width, channels, stride, before] of the shortcut (NHWC, same batch).
// With a shortcut the result is activation(conv(x) + bias + shortcut): the shortcut is written
// into `out` and added by oneDNN's sum post-op, ahead of the activation's eltwise post-op.
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  auto p = int_params(info[0], kConvParams, "params");
  ConvShape s(p);
  float* x = float_data(info[1], s.src_size, "x");
  float* w = float_data(info[2], s.weights_size, "filter");
  float* bias = optional_float_data(info[3], static_cast<size_t>(s.out_channels), "bias");
  float* out = float_data(info[4], s.dst_size, "out");
  const int activation = info[5].As<Napi::Number>().Int32Value();
  const float alpha = info[6].As<Napi::Number>().FloatValue();
  const double weights_version = info.Length() > 7 && info[7].IsNumber() ? info[7].As<Napi::Number>().DoubleValue() : 0;
  Shortcut shortcut;
  const bool residual = info.Length() > 8 && !info[8].IsNull() && !info[8].IsUndefined();
  if (residual) {
    auto sp = int_params(info[9], 5, "shortcutParams");
    shortcut.height = sp[0];
    shortcut.width = sp[1];
    shortcut.channels = sp[2];
    shortcut.stride = sp[3];
    shortcut.before = sp[4];
    const int64_t OH = s.dst[2], OW = s.dst[3];
    if (shortcut.stride < 1 || (shortcut.height + shortcut.stride - 1) / shortcut.stride != OH ||
        (shortcut.width + shortcut.stride - 1) / shortcut.stride != OW || shortcut.before < 0 ||
        shortcut.channels < 1 || shortcut.before + shortcut.channels > s.out_channels) {
      throw Napi::RangeError::New(info.Env(), "shortcutParams: the shortcut does not fit the output");
    }
    shortcut.data = float_data(info[8], static_cast<size_t>(s.dst[0] * shortcut.height * shortcut.width * shortcut.channels),
                               "shortcut");
  }
  ShortcutMode mode = ShortcutMode::kNone;
  if (residual) {
    const bool same_shape = shortcut.stride == 1 && shortcut.before == 0 && shortcut.channels == s.out_channels &&
                            shortcut.height == s.dst[2] && shortcut.width == s.dst[3];
    mode = same_shape ? ShortcutMode::kAddInput : ShortcutMode::kAddPrefilled;
  }
  // Winograd trades precision (about 1e-4 relative per layer) for speed: only the inference-only
  // fused kernel allows it; tfjs's Conv2D, which training runs, stays direct.
  const bool allow_winograd = info.Length() > 10 && info[10].ToBoolean().Value();
  const int64_t variant =
      (bias ? 1 : 0) + 2 * activation + 64 * static_cast<int64_t>(mode) + (allow_winograd ? 256 : 0);

  auto& e = tuned<ConvForward>(
      key_of("conv_fwd", p, variant),
      [&](Layout layout, int candidate) -> std::unique_ptr<ConvForward> {
        // Candidates 0 .. kForwardImpls-1: oneDNN's implementations on the threads set; then
        // Winograd (blocked layouts only); then, for small work, the implementations on one thread.
        const bool winograd = candidate == kForwardImpls;
        const int impl = candidate < kForwardImpls ? candidate : std::max(0, candidate - kForwardImpls - 1);
        const int threads = candidate > kForwardImpls ? 1 : 0;
        if (winograd && (!allow_winograd || layout == Layout::kPlain || !s.winograd_candidate())) return nullptr;
        auto entry = std::make_unique<ConvForward>();
        entry->threads = threads;
        ThreadScope scope(threads);
        // Winograd takes no binary post-op: its same-shape shortcut is copied in and summed.
        const ShortcutMode candidate_mode =
            winograd && mode == ShortcutMode::kAddInput ? ShortcutMode::kAddPrefilled : mode;
        entry->shortcut_mode = candidate_mode;
        dnnl::primitive_attr attr = candidate_mode == ShortcutMode::kNone
                                        ? activation_attr(activation, alpha)
                                        : residual_attr(activation, alpha, candidate_mode, s.user_dst());
        bool found = true;
        dnnl::convolution_forward::primitive_desc pd;
        try {
          pd = s.forward_pd(dnnl::prop_kind::forward_inference, bias != nullptr, attr, layout == Layout::kPlain, impl,
                            &found, winograd ? algorithm::convolution_winograd : algorithm::convolution_direct);
        } catch (const dnnl::error&) {
          return nullptr;  // no implementation takes this layout with these post-ops
        }
        if (!found || !worth_timing(pd, impl)) return nullptr;
        // A fallback kernel on oneDNN's layouts is never taken: the fixed `blocked` policy then
        // runs the plain layout (a rule, not a timing, so the bits stay the same in every process).
        if (layout == Layout::kBlocked && fallback_impl(pd)) return nullptr;
        entry->prim = dnnl::convolution_forward(pd);
        entry->src = Staged(s.user_src(), pd.src_desc(), true, false);
        entry->weights = Staged(s.user_weights(), pd.weights_desc(), true, false);
        entry->dst = Staged(s.user_dst(), pd.dst_desc(), candidate_mode == ShortcutMode::kAddPrefilled, true);
        return entry;
      },
      [&](ConvForward& candidate) {
        run_forward(candidate, x, w, weights_version, bias, out, s.bias, residual ? &shortcut : nullptr, s);
      },
      kForwardImpls + 1 +
          (s.macs() <= kSingleThreadCandidateMacs && omp_get_max_threads() > 1 ? kForwardImpls : 0));
  run_forward(e, x, w, weights_version, bias, out, s.bias, residual ? &shortcut : nullptr, s);
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
      [&](Layout layout, int) {
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
      [&](Layout layout, int) {
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

Napi::Object ConvOpCodes(Napi::Env env) {
  auto activation = Napi::Object::New(env);
  activation.Set("linear", static_cast<int>(kLinear));
  activation.Set("relu", static_cast<int>(kRelu));
  activation.Set("relu6", static_cast<int>(kRelu6));
  activation.Set("elu", static_cast<int>(kElu));
  activation.Set("leakyrelu", static_cast<int>(kLeakyRelu));
  activation.Set("sigmoid", static_cast<int>(kSigmoid));
  auto layout = Napi::Object::New(env);
  layout.Set("timed", static_cast<int>(ConvLayoutPolicy::kTimed));
  layout.Set("plain", static_cast<int>(ConvLayoutPolicy::kPlain));
  layout.Set("blocked", static_cast<int>(ConvLayoutPolicy::kBlocked));
  auto codes = Napi::Object::New(env);
  codes.Set("activation", activation);
  codes.Set("convLayout", layout);
  return codes;
}

}  // namespace onednn_addon
