import {
  BATCH_NORM_RELU_TRAINING_GRAD_KERNEL,
  BATCH_NORM_RELU_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
} from '@resnet-ts/resnet-core/kernel-names';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  engine,
  FusedBatchNorm,
  type KernelConfig,
  type NamedTensorMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { float32Of, outputArray } from '../data';
import { defineNativeGradient } from '../gradients';
import { requireAddon } from '../native';
import { cpuKernel, type KernelArgs, onednnKernel } from './fallback';

/** One-pass batch-norm gradient: outputs dx, dMean, dVariance, dScale, dOffset. */
export const BATCH_NORM_GRAD = 'OneDnnFusedBatchNormGrad';

type Inputs = Record<string, TensorInfo | undefined>;

/** Channel vectors for a per-last-axis batch norm, or undefined when the shapes do not fit. */
function channelVectors(backend: MathBackendCPU, x: TensorInfo, vectors: (TensorInfo | undefined)[]) {
  const channels = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || channels === undefined) return undefined;
  const values: (Float32Array | null)[] = [];
  for (const v of vectors) {
    if (!v) {
      values.push(null);
      continue;
    }
    const data = float32Of(backend, v);
    if (!data || data.length !== channels) return undefined;
    values.push(data);
  }
  return values;
}

function batchNorm(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as MathBackendCPU;
  const { x, mean, variance, offset, scale } = args.inputs as Inputs;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const xv = float32Of(backend, x!);
  const vectors =
    xv && mean && variance ? channelVectors(backend, x!, [mean, variance, scale, offset]) : undefined;
  if (!xv || !vectors) return cpuKernel(FusedBatchNorm, args);
  const [m, v, s, o] = vectors;
  const out = outputArray(xv.length);
  requireAddon().batchNormForward(xv, m!, v!, s ?? null, o ?? null, varianceEpsilon, out);
  return backend.makeTensorInfo(x!.shape, 'float32', out);
}

function batchNormGrad(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as MathBackendCPU;
  const { dy, x, mean, variance, scale } = args.inputs as Inputs;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const dyv = float32Of(backend, dy!);
  const xv = float32Of(backend, x!);
  const vectors = channelVectors(backend, x!, [mean, variance, scale]);
  if (!dyv || !xv || !vectors) throw new Error(`${BATCH_NORM_GRAD}: unsupported inputs`);
  const [m, v, s] = vectors;
  const channels = m!.length;
  const dx = outputArray(xv.length);
  const grads = [0, 1, 2, 3].map(() => outputArray(channels));
  requireAddon().batchNormBackward(
    dyv,
    xv,
    m!,
    v!,
    s ?? null,
    varianceEpsilon,
    dx,
    grads[0]!,
    grads[1]!,
    grads[2]!,
    grads[3]!,
  );
  return [
    backend.makeTensorInfo(x!.shape, 'float32', dx),
    backend.makeTensorInfo(mean!.shape, 'float32', grads[0]),
    backend.makeTensorInfo(variance!.shape, 'float32', grads[1]),
    backend.makeTensorInfo(scale ? scale.shape : mean!.shape, 'float32', grads[2]),
    backend.makeTensorInfo(mean!.shape, 'float32', grads[3]),
  ];
}

defineNativeGradient(FusedBatchNorm, (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved;
  const fits =
    dy.dtype === 'float32' &&
    x!.rank >= 2 &&
    mean!.size === x!.shape[x!.rank - 1] &&
    variance!.size === mean!.size &&
    (!scale || scale.size === mean!.size);
  if (!fits) return undefined;
  const inputs: NamedTensorMap = { dy, x: x!, mean: mean!, variance: variance! };
  if (scale) inputs.scale = scale;
  // One native pass instead of tfjs's ~15 full-size tensor ops.
  const [dx, dMean, dVariance, dScale, dOffset] = engine().runKernel(
    BATCH_NORM_GRAD,
    inputs,
    attrs,
  ) as Tensor[];
  return {
    x: () => dx!,
    mean: () => dMean!,
    variance: () => dVariance!,
    scale: () => dScale!,
    offset: () => dOffset!,
  };
});

// Training-mode batch norm with its gradient: the kernels @resnet-ts/resnet-core's
// BatchNormalization layer calls when the active backend registers them (it registers the gradient).

function channelVectorsOrThrow(
  kernelName: string,
  backend: MathBackendCPU,
  x: TensorInfo,
  vectors: TensorInfo[],
) {
  const values = channelVectors(backend, x, vectors);
  if (!values || !float32Of(backend, x)) {
    throw new Error(`${kernelName}: expected float32 x with per-channel vectors of its last dimension`);
  }
  return values as Float32Array[];
}

const batchNormTraining =
  (relu: boolean) =>
  (args: KernelArgs): TensorInfo[] => {
    const backend = args.backend as MathBackendCPU;
    const { x, scale, offset } = args.inputs as Inputs;
    const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
    const name = relu ? BATCH_NORM_RELU_TRAINING_KERNEL : BATCH_NORM_TRAINING_KERNEL;
    const [s, o] = channelVectorsOrThrow(name, backend, x!, [scale!, offset!]);
    const xv = float32Of(backend, x!)!;
    const y = outputArray(xv.length);
    const mean = outputArray(s!.length);
    const variance = outputArray(s!.length);
    requireAddon().batchNormTraining(xv, s!, o!, varianceEpsilon, y, mean, variance, relu);
    return [
      backend.makeTensorInfo(x!.shape, 'float32', y),
      backend.makeTensorInfo([s!.length], 'float32', mean),
      backend.makeTensorInfo([s!.length], 'float32', variance),
    ];
  };

const batchNormTrainingGrad =
  (relu: boolean) =>
  (args: KernelArgs): TensorInfo[] => {
    const backend = args.backend as MathBackendCPU;
    const { dy, x, scale, offset, mean, variance } = args.inputs as Inputs;
    const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
    const name = relu ? BATCH_NORM_RELU_TRAINING_GRAD_KERNEL : BATCH_NORM_TRAINING_GRAD_KERNEL;
    const vectors = relu ? [scale!, mean!, variance!, offset!] : [scale!, mean!, variance!];
    const [s, m, v, o] = channelVectorsOrThrow(name, backend, x!, vectors);
    const dyv = float32Of(backend, dy!);
    if (!dyv) throw new Error(`${name}: expected a float32 dy`);
    const xv = float32Of(backend, x!)!;
    const dx = outputArray(xv.length);
    const dScale = outputArray(s!.length);
    const dOffset = outputArray(s!.length);
    requireAddon().batchNormTrainingGrad(
      dyv,
      xv,
      s!,
      m!,
      v!,
      varianceEpsilon,
      dx,
      dScale,
      dOffset,
      o ?? null,
    );
    return [
      backend.makeTensorInfo(x!.shape, 'float32', dx),
      backend.makeTensorInfo(scale!.shape, 'float32', dScale),
      backend.makeTensorInfo(scale!.shape, 'float32', dOffset),
    ];
  };

export const batchNormKernels: KernelConfig[] = [
  onednnKernel(FusedBatchNorm, batchNorm),
  onednnKernel(BATCH_NORM_GRAD, batchNormGrad),
  onednnKernel(BATCH_NORM_TRAINING_KERNEL, batchNormTraining(false)),
  onednnKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, batchNormTrainingGrad(false)),
  onednnKernel(BATCH_NORM_RELU_TRAINING_KERNEL, batchNormTraining(true)),
  onednnKernel(BATCH_NORM_RELU_TRAINING_GRAD_KERNEL, batchNormTrainingGrad(true)),
];
