#pragma once
#include <napi.h>

namespace onednn_addon {
Napi::Value SgdUpdate(const Napi::CallbackInfo& info);
}  // namespace onednn_addon
