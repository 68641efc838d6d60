import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  AvgPool,
  AvgPoolGrad,
  backend_util,
  type KernelConfig,
  MaxPool,
  MaxPoolGrad,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { float32Of, outputArray, sizeOf } from '../data';
import { requireAddon } from '../native';
import { cpuKernel, type KernelArgs, onednnKernel } from './fallback';

type PoolAttrs = {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** The addon's 14 pooling parameters (see native/pooling.cc). */
function poolParams(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.padInfo.bottom,
    info.padInfo.right,
  ]);
}

function poolInfo(shape: number[], attrs: PoolAttrs) {
  return backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function poolKernel(kernelName: string, isMax: number): KernelConfig {
  return onednnKernel(kernelName, (args: KernelArgs) => {
    const backend = args.backend as MathBackendCPU;
    const { x } = args.inputs as Record<string, TensorInfo>;
    const xv = float32Of(backend, x!);
    if (!xv || x!.shape.length !== 4) return cpuKernel(kernelName, args);
    const info = poolInfo(x!.shape, args.attrs as unknown as PoolAttrs);
    const out = outputArray(sizeOf(info.outShape));
    requireAddon().pool(poolParams(info), isMax, xv, out);
    return backend.makeTensorInfo(info.outShape, 'float32', out);
  });
}

function poolGradKernel(kernelName: string, isMax: number): KernelConfig {
  return onednnKernel(kernelName, (args: KernelArgs) => {
    const backend = args.backend as MathBackendCPU;
    const { dy, input } = args.inputs as Record<string, TensorInfo>;
    const dyv = float32Of(backend, dy!);
    const xv = float32Of(backend, input!);
    if (!dyv || !xv || input!.shape.length !== 4) return cpuKernel(kernelName, args);
    const info = poolInfo(input!.shape, args.attrs as unknown as PoolAttrs);
    const dx = outputArray(sizeOf(input!.shape));
    requireAddon().poolBackward(poolParams(info), isMax, dyv, isMax ? xv : null, dx);
    return backend.makeTensorInfo(input!.shape, 'float32', dx);
  });
}

export const poolingKernels: KernelConfig[] = [
  poolKernel(AvgPool, 0),
  poolKernel(MaxPool, 1),
  poolGradKernel(AvgPoolGrad, 0),
  poolGradKernel(MaxPoolGrad, 1),
];
