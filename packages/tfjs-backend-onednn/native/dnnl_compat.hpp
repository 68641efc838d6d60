// Every oneDNN call whose signature differs between the 2.x API (Debian 12: 2.6) and the 3.x API
// (operation descriptors removed, primitive descriptors built directly) lives in this file.
#pragma once

#include <dnnl.hpp>
#include <string>

namespace onednn_compat {

using dnnl::algorithm;
using dnnl::engine;
using dnnl::memory;
using dnnl::primitive_attr;
using dnnl::prop_kind;

// `impl`: the implementation to take, counted in oneDNN's order (0: the one it prefers); `*found`
// is set false when there are fewer. In 2.x the iterator behind next_impl() reads the operation
// descriptor, so it has to advance here, while that descriptor lives.
inline dnnl::convolution_forward::primitive_desc conv_forward_pd(
    const engine& eng, prop_kind prop, const memory::desc& src, const memory::desc& weights,
    const memory::desc* bias, const memory::desc& dst, const memory::dims& strides,
    const memory::dims& dilates, const memory::dims& pad_l, const memory::dims& pad_r,
    const primitive_attr& attr, int impl = 0, bool* found = nullptr,
    algorithm alg = algorithm::convolution_direct) {
  // Implementations are counted by name: oneDNN may list one kernel more than once (variants of
  // it for other ISAs that fall back to the same code).
  auto advance = [&](dnnl::convolution_forward::primitive_desc pd) {
    bool ok = true;
    for (int i = 0; i < impl && ok; i++) {
      const std::string previous = pd.impl_info_str();
      do {
        ok = pd.next_impl();
      } while (ok && previous == pd.impl_info_str());
    }
    if (found) *found = ok;
    return pd;
  };
#if DNNL_VERSION_MAJOR >= 3
  if (bias)
    return advance({eng, prop, alg, src, weights, *bias, dst, strides, dilates, pad_l, pad_r,
                    attr});
  return advance({eng, prop, alg, src, weights, dst, strides, dilates, pad_l, pad_r, attr});
#else
  if (bias) {
    dnnl::convolution_forward::desc d(prop, alg, src, weights, *bias, dst, strides,
                                      dilates, pad_l, pad_r);
    return advance({d, attr, eng});
  }
  dnnl::convolution_forward::desc d(prop, alg, src, weights, dst, strides, dilates, pad_l,
                                    pad_r);
  return advance({d, attr, eng});
#endif
}

inline dnnl::convolution_backward_data::primitive_desc conv_backward_data_pd(
    const engine& eng, const memory::desc& diff_src, const memory::desc& weights, const memory::desc& diff_dst,
    const memory::dims& strides, const memory::dims& dilates, const memory::dims& pad_l,
    const memory::dims& pad_r, const dnnl::convolution_forward::primitive_desc& hint) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, algorithm::convolution_direct, diff_src, weights, diff_dst, strides, dilates, pad_l, pad_r, hint};
#else
  dnnl::convolution_backward_data::desc d(algorithm::convolution_direct, diff_src, weights, diff_dst, strides,
                                          dilates, pad_l, pad_r);
  return {d, eng, hint};
#endif
}

inline dnnl::convolution_backward_weights::primitive_desc conv_backward_weights_pd(
    const engine& eng, const memory::desc& src, const memory::desc& diff_weights, const memory::desc& diff_dst,
    const memory::dims& strides, const memory::dims& dilates, const memory::dims& pad_l,
    const memory::dims& pad_r, const dnnl::convolution_forward::primitive_desc& hint) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, algorithm::convolution_direct, src, diff_weights, diff_dst, strides, dilates, pad_l, pad_r, hint};
#else
  dnnl::convolution_backward_weights::desc d(algorithm::convolution_direct, src, diff_weights, diff_dst, strides,
                                             dilates, pad_l, pad_r);
  return {d, eng, hint};
#endif
}

inline dnnl::pooling_forward::primitive_desc pooling_forward_pd(
    const engine& eng, prop_kind prop, algorithm alg, const memory::desc& src, const memory::desc& dst,
    const memory::dims& strides, const memory::dims& kernel, const memory::dims& pad_l, const memory::dims& pad_r) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, prop, alg, src, dst, strides, kernel, memory::dims(strides.size(), 0), pad_l, pad_r};
#else
  dnnl::pooling_forward::desc d(prop, alg, src, dst, strides, kernel, pad_l, pad_r);
  return {d, eng};
#endif
}

inline dnnl::pooling_backward::primitive_desc pooling_backward_pd(
    const engine& eng, algorithm alg, const memory::desc& diff_src, const memory::desc& diff_dst,
    const memory::dims& strides, const memory::dims& kernel, const memory::dims& pad_l, const memory::dims& pad_r,
    const dnnl::pooling_forward::primitive_desc& hint) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, alg, diff_src, diff_dst, strides, kernel, memory::dims(strides.size(), 0), pad_l, pad_r, hint};
#else
  dnnl::pooling_backward::desc d(alg, diff_src, diff_dst, strides, kernel, pad_l, pad_r);
  return {d, eng, hint};
#endif
}

inline dnnl::matmul::primitive_desc matmul_pd(const engine& eng, const memory::desc& src, const memory::desc& weights,
                                             const memory::desc* bias, const memory::desc& dst,
                                             const primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  if (bias) return {eng, src, weights, *bias, dst, attr};
  return {eng, src, weights, dst, attr};
#else
  if (bias) {
    dnnl::matmul::desc d(src, weights, *bias, dst);
    return {d, attr, eng};
  }
  dnnl::matmul::desc d(src, weights, dst);
  return {d, attr, eng};
#endif
}

// Eltwise post-op appended to a primitive's attributes (scale argument dropped in 3.x).
inline void append_eltwise(dnnl::post_ops& ops, algorithm alg, float alpha, float beta) {
#if DNNL_VERSION_MAJOR >= 3
  ops.append_eltwise(alg, alpha, beta);
#else
  ops.append_eltwise(1.0f, alg, alpha, beta);
#endif
}

// Binary post-op: dst = op(..., src1) with src1 described by `src1` (same signature in 2.x and 3.x).
inline void append_binary(dnnl::post_ops& ops, algorithm alg, const memory::desc& src1) {
  ops.append_binary(alg, src1);
}

// Sum post-op: dst = op(...) + scale * dst (same signature in 2.x and 3.x).
inline void append_sum(dnnl::post_ops& ops, float scale) { ops.append_sum(scale); }

}  // namespace onednn_compat
