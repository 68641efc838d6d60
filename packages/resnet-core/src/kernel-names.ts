// The names of the kernels this project's layers and optimiser call when the active backend
// registers them: the contract between @resnet-ts/resnet-core (and @resnet-ts/train's SGD step)
// and the backends that implement them (@resnet-ts/tfjs-backend-onednn, @resnet-ts/tfjs-backend-cuda).
// Defined here only. This module imports nothing, so a backend reads the names from
// `@resnet-ts/resnet-core/kernel-names` without loading TensorFlow.js layers.

/**
 * Training-mode batch norm in one kernel. Inputs `x`, `scale`, `offset`; attr `varianceEpsilon`;
 * outputs the normalised `x` and the batch's per-channel mean and biased variance (over all axes
 * but the last), exactly what tfjs-layers computes with `moments` followed by `batchNorm`.
 */
export const BATCH_NORM_TRAINING_KERNEL = 'ResNetBatchNormTraining';
/** Its gradient: inputs `dy`, `x`, `scale`, `mean`, `variance`; outputs `dx`, `dScale`, `dOffset`. */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'ResNetBatchNormTrainingGrad';
/** The same followed by a ReLU, in one pass: same inputs, attrs and outputs (`y` = max(0, ·)). */
export const BATCH_NORM_RELU_TRAINING_KERNEL = 'ResNetBatchNormReluTraining';
/**
 * Its gradient: inputs `dy`, `x`, `scale`, `offset`, `mean`, `variance`; outputs as above (the
 * ReLU's mask is recomputed from `x`).
 */
export const BATCH_NORM_RELU_TRAINING_GRAD_KERNEL = 'ResNetBatchNormReluTrainingGrad';

/**
 * Inference kernel of the FusedConv2D layer: `activation(conv(x) + bias + shortcut)` in one pass.
 * Inputs `x`, `filter` (HWIO), `bias` (optional), `shortcut` (optional, NHWC); attrs `strides`,
 * `pad` ('same', 'valid' or explicit NHWC pairs), `dilations`, `activation` ('linear' or 'relu'),
 * `shortcutStrides` (the shortcut is x[:, ::s, ::s, :] of it) and `shortcutChannelsBefore` (zero
 * channels ahead of the shortcut's; zeros also fill the channels after it up to the output's). No
 * gradient: the layer runs tfjs ops when training.
 */
export const FUSED_CONV2D_KERNEL = 'ResNetFusedConv2D';

/**
 * One SGD step of one parameter (@resnet-ts/train's optimiser). Inputs `param`, `grad`,
 * `velocity` (optional); attrs `lr`, `momentum`, `nesterov`, `keep` (1 − lr·weightDecay). Outputs
 * the new parameter and, with momentum, the new velocity:
 *   v' = v·momentum + g;  d = nesterov ? g + v'·momentum : v' (d = g without velocity);  p' = p·keep − d·lr
 * rounded to float32 at each step as the same sequence of tfjs ops is.
 */
export const SGD_UPDATE_KERNEL = 'ResNetSgdUpdate';
