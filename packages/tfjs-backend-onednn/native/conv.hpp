#pragma once
#include <napi.h>

namespace onednn_addon {
Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info);
}  // namespace onednn_addon
