#pragma once
#include <napi.h>

namespace onednn_addon {
Napi::Value MatMul(const Napi::CallbackInfo& info);
}  // namespace onednn_addon
