#pragma once
#include <napi.h>

namespace onednn_addon {
Napi::Value BatchNormForward(const Napi::CallbackInfo& info);
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info);
Napi::Value BatchNormTraining(const Napi::CallbackInfo& info);
Napi::Value BatchNormTrainingGrad(const Napi::CallbackInfo& info);
}  // namespace onednn_addon
