#pragma once
#include <napi.h>

namespace onednn_addon {
Napi::Value Pool(const Napi::CallbackInfo& info);
Napi::Value PoolBackward(const Napi::CallbackInfo& info);
}  // namespace onednn_addon
