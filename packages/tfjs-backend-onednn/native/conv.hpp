#pragma once
#include <napi.h>

#include <dnnl.hpp>

namespace onednn_addon {
// Attributes fusing a tfjs activation (a code of ConvOpCodes' `activation`) as an eltwise post-op.
dnnl::primitive_attr activation_attr(int activation, float alpha);
// The codes JS passes by name: { activation: { linear: 0, relu, … }, convLayout: { timed, plain, blocked } }.
Napi::Object ConvOpCodes(Napi::Env env);
// How convolution primitives pick their memory layouts (see conv.cc).
enum class ConvLayoutPolicy { kTimed = 0, kPlain = 1, kBlocked = 2 };
void set_conv_layout_policy(ConvLayoutPolicy policy);
ConvLayoutPolicy conv_layout_policy();

// Drops the reordered copies of one tensor's weights (JS calls it when the tensor is disposed).
void forget_weights(double version);
void clear_weight_copies();
// Weight tensors with reordered copies kept.
size_t weight_copies();

Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info);
}  // namespace onednn_addon
