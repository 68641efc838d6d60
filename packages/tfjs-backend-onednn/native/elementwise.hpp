#pragma once
#include <napi.h>

namespace onednn_addon {
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value Tile(const Napi::CallbackInfo& info);
Napi::Value Slice(const Napi::CallbackInfo& info);
Napi::Value Pad(const Napi::CallbackInfo& info);
// The op codes of binary, unary and reduce by name ({ binary: { add: 0, … }, unary, reduce }): the
// JS side calls ops by these names, so the codes are defined once, by the enums in elementwise.cc.
Napi::Object ElementwiseOpCodes(Napi::Env env);
}  // namespace onednn_addon
