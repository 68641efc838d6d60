import {
  BATCH_NORM_RELU_TRAINING_GRAD_KERNEL,
  BATCH_NORM_RELU_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  SGD_UPDATE_KERNEL,
} from '@resnet-ts/resnet-core/kernel-names';
import {
  FusedBatchNorm,
  type FusedBatchNormAttrs,
  type KernelConfig,
  LRN,
  type LRNAttrs,
  LRNGrad,
  type LRNGradAttrs,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import type { CudaBackend } from '../backend';
import { cudaKernel, type KernelArgs, runOnCpu } from '../fallback';

// The kernels @resnet-ts/resnet-core (training batch norm) and @resnet-ts/train (the fused SGD
// step) call when the active backend registers them; names and contracts are resnet-core's
// kernel-names, and the onednn backend implements the same ones.

type Inputs = Record<string, TensorInfo | undefined>;

function channelCheck(kernelName: string, x: TensorInfo, vectors: (TensorInfo | undefined)[]): number {
  const channels = x.shape.at(-1) ?? 0;
  const ok =
    x.dtype === 'float32' &&
    vectors.every(
      (v) => v !== undefined && v.dtype === 'float32' && util.sizeFromShape(v.shape) === channels,
    );
  if (!ok)
    throw new Error(`${kernelName}: expected float32 x with per-channel vectors of its last dimension`);
  return channels;
}

const batchNormTraining = (relu: boolean) => (args: KernelArgs) => {
  const backend = args.backend as CudaBackend;
  const { x, scale, offset } = args.inputs as Inputs;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const name = relu ? BATCH_NORM_RELU_TRAINING_KERNEL : BATCH_NORM_TRAINING_KERNEL;
  const channels = channelCheck(name, x!, [scale, offset]);
  const rows = util.sizeFromShape(x!.shape) / Math.max(channels, 1);
  const y = backend.makeTensorInfo(x!.shape, 'float32');
  const mean = backend.makeTensorInfo([channels], 'float32');
  const variance = backend.makeTensorInfo([channels], 'float32');
  if (rows * channels > 0) {
    backend.addon.batchNormTraining(
      backend.ptr(x!),
      backend.ptr(scale!),
      backend.ptr(offset!),
      varianceEpsilon,
      rows,
      channels,
      relu,
      backend.ptr(y),
      backend.ptr(mean),
      backend.ptr(variance),
    );
  }
  return [y, mean, variance];
};

const batchNormTrainingGrad = (relu: boolean) => (args: KernelArgs) => {
  const backend = args.backend as CudaBackend;
  const { dy, x, scale, offset, mean, variance } = args.inputs as Inputs;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const name = relu ? BATCH_NORM_RELU_TRAINING_GRAD_KERNEL : BATCH_NORM_TRAINING_GRAD_KERNEL;
  const channels = channelCheck(name, x!, relu ? [scale, mean, variance, offset] : [scale, mean, variance]);
  if (dy?.dtype !== 'float32' || !util.arraysEqual(dy.shape, x!.shape)) {
    throw new Error(`${name}: expected a float32 dy of x's shape`);
  }
  const rows = util.sizeFromShape(x!.shape) / Math.max(channels, 1);
  const dx = backend.makeTensorInfo(x!.shape, 'float32');
  const dScale = backend.makeTensorInfo(scale!.shape, 'float32');
  const dOffset = backend.makeTensorInfo(scale!.shape, 'float32');
  if (rows * channels > 0) {
    backend.addon.batchNormTrainingGrad(
      backend.ptr(dy),
      backend.ptr(x!),
      backend.ptr(scale!),
      relu ? backend.ptr(offset!) : 0,
      backend.ptr(mean!),
      backend.ptr(variance!),
      varianceEpsilon,
      rows,
      channels,
      backend.ptr(dx),
      backend.ptr(dScale),
      backend.ptr(dOffset),
    );
  }
  return [dx, dScale, dOffset];
};

function fusedBatchNorm(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x, mean, variance, offset, scale } = args.inputs as Inputs;
  const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
  if (![x, mean, variance, offset, scale].every((t) => t === undefined || t.dtype === 'float32')) {
    return runOnCpu(FusedBatchNorm, args, `FusedBatchNorm (${x!.dtype})`);
  }
  const n = util.sizeFromShape(x!.shape);
  const out = backend.makeTensorInfo(x!.shape, 'float32');
  if (n === 0) return out;
  const len = (t: TensorInfo | undefined) => (t ? util.sizeFromShape(t.shape) : 1);
  backend.addon.batchNorm(
    backend.ptr(x!),
    n,
    backend.ptr(mean!),
    len(mean),
    backend.ptr(variance!),
    len(variance),
    scale ? backend.ptr(scale) : 0,
    len(scale),
    offset ? backend.ptr(offset) : 0,
    len(offset),
    varianceEpsilon ?? 0.001,
    backend.ptr(out),
  );
  return out;
}

function lrn(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { depthRadius, bias, alpha, beta } = args.attrs as unknown as LRNAttrs;
  if (x.dtype !== 'float32') return runOnCpu(LRN, args, `LRN (${x.dtype})`);
  const depth = x.shape.at(-1) ?? 1;
  const rows = util.sizeFromShape(x.shape) / Math.max(depth, 1);
  const out = backend.makeTensorInfo(x.shape, 'float32');
  if (rows * depth > 0)
    backend.addon.lrn(backend.ptr(x), rows, depth, depthRadius, bias, alpha, beta, backend.ptr(out));
  return out;
}

function lrnGrad(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x, y, dy } = args.inputs as { x: TensorInfo; y: TensorInfo; dy: TensorInfo };
  const { depthRadius, bias, alpha, beta } = args.attrs as unknown as LRNGradAttrs;
  if (x.dtype !== 'float32') return runOnCpu(LRNGrad, args, `LRNGrad (${x.dtype})`);
  const depth = x.shape.at(-1) ?? 1;
  const rows = util.sizeFromShape(x.shape) / Math.max(depth, 1);
  const out = backend.makeTensorInfo(x.shape, 'float32');
  if (rows * depth > 0) {
    backend.addon.lrnGrad(
      backend.ptr(dy),
      backend.ptr(x),
      backend.ptr(y),
      rows,
      depth,
      depthRadius,
      bias,
      alpha,
      beta,
      backend.ptr(out),
    );
  }
  return out;
}

function sgdUpdate(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { param, grad, velocity } = args.inputs as Inputs;
  const { lr, momentum, nesterov, keep } = args.attrs as unknown as {
    lr: number;
    momentum: number;
    nesterov: boolean;
    keep: number;
  };
  const n = util.sizeFromShape(param!.shape);
  const sameShape = (t: TensorInfo | undefined) =>
    t?.dtype === 'float32' && util.sizeFromShape(t.shape) === n;
  if (!sameShape(param) || !sameShape(grad) || (velocity && !sameShape(velocity))) {
    throw new Error(`${SGD_UPDATE_KERNEL}: expected float32 param, grad and velocity of one shape`);
  }
  const paramOut = backend.makeTensorInfo(param!.shape, 'float32');
  const velocityOut = velocity ? backend.makeTensorInfo(param!.shape, 'float32') : undefined;
  if (n > 0) {
    backend.addon.sgdUpdate(
      backend.ptr(param!),
      backend.ptr(grad!),
      velocity ? backend.ptr(velocity) : 0,
      n,
      lr,
      momentum,
      nesterov,
      keep,
      backend.ptr(paramOut),
      velocityOut ? backend.ptr(velocityOut) : 0,
    );
  }
  return velocityOut ? [paramOut, velocityOut] : [paramOut];
}

export const normKernels: KernelConfig[] = [
  cudaKernel(FusedBatchNorm, fusedBatchNorm),
  cudaKernel(BATCH_NORM_TRAINING_KERNEL, batchNormTraining(false)),
  cudaKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, batchNormTrainingGrad(false)),
  cudaKernel(BATCH_NORM_RELU_TRAINING_KERNEL, batchNormTraining(true)),
  cudaKernel(BATCH_NORM_RELU_TRAINING_GRAD_KERNEL, batchNormTrainingGrad(true)),
  cudaKernel(LRN, lrn),
  cudaKernel(LRNGrad, lrnGrad),
  cudaKernel(SGD_UPDATE_KERNEL, sgdUpdate),
];
