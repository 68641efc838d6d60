#pragma once
#include <napi.h>

#include <dnnl.hpp>

namespace onednn_addon {
// Attributes fusing a tfjs activation (codes in src/kernels/conv.ts) as an eltwise post-op.
dnnl::primitive_attr activation_attr(int activation, float alpha);
Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info);
}  // namespace onednn_addon
