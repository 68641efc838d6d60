import {
  AvgPool,
  type AvgPoolAttrs,
  AvgPoolGrad,
  type AvgPoolGradAttrs,
  backend_util,
  type KernelConfig,
  MaxPool,
  type MaxPoolAttrs,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import type { CudaBackend } from '../backend';
import { cudaKernel, type KernelArgs, runOnCpu } from '../fallback';
import { convShape } from './conv';

/** native/kernels.hpp's PoolShape: the convolution shape, then the window's effective size. */
function poolShape(info: backend_util.Conv2DInfo): number[] {
  return [...convShape(info), info.effectiveFilterHeight, info.effectiveFilterWidth];
}

function poolInfo(x: TensorInfo, attrs: MaxPoolAttrs | AvgPoolAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function poolKernel(kernelName: string, isMax: boolean) {
  return cudaKernel(kernelName, (args: KernelArgs) => {
    const backend = args.backend as CudaBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const attrs = args.attrs as unknown as MaxPoolAttrs;
    if (x.dtype !== 'float32' || x.shape.length !== 4)
      return runOnCpu(kernelName, args, `${kernelName} (${x.dtype})`);
    const info = poolInfo(x, attrs);
    // A 1x1 window with stride 1 and no padding returns its input, as in tfjs.
    if (info.filterWidth === 1 && info.filterHeight === 1 && util.arraysEqual(info.inShape, info.outShape)) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }
    const out = backend.makeTensorInfo(info.outShape, 'float32');
    if (util.sizeFromShape(info.outShape) > 0) {
      backend.addon.pool(poolShape(info), isMax, backend.ptr(x), backend.ptr(out));
    }
    return out;
  });
}

function maxPoolGrad(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  if (input.dtype !== 'float32') return runOnCpu(MaxPoolGrad, args, `MaxPoolGrad (${input.dtype})`);
  const info = poolInfo(input, attrs);
  const out = backend.makeTensorInfo(input.shape, 'float32');
  if (util.sizeFromShape(input.shape) > 0) {
    backend.addon.poolGrad(poolShape(info), true, backend.ptr(dy), backend.ptr(input), backend.ptr(out));
  }
  return out;
}

function avgPoolGrad(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const attrs = args.attrs as unknown as AvgPoolGradAttrs;
  if (input.dtype !== 'float32') return runOnCpu(AvgPoolGrad, args, `AvgPoolGrad (${input.dtype})`);
  const info = poolInfo(input, { ...attrs, dimRoundingMode: undefined } as AvgPoolAttrs);
  const out = backend.makeTensorInfo(input.shape, 'float32');
  if (util.sizeFromShape(input.shape) > 0) {
    backend.addon.poolGrad(poolShape(info), false, backend.ptr(dy), 0, backend.ptr(out));
  }
  return out;
}

export const poolKernels: KernelConfig[] = [
  poolKernel(MaxPool, true),
  poolKernel(AvgPool, false),
  cudaKernel(MaxPoolGrad, maxPoolGrad),
  cudaKernel(AvgPoolGrad, avgPoolGrad),
];
