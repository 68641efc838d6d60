import {
  _FusedMatMul,
  type _FusedMatMulAttrs,
  BatchMatMul,
  type BatchMatMulAttrs,
  backend_util,
  Conv2D,
  type Conv2DAttrs,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  FusedConv2D,
  type FusedConv2DAttrs,
  type KernelConfig,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import type { CudaBackend } from '../backend';
import { cudaKernel, type KernelArgs, runOnCpu } from '../fallback';
import { ACTIVATIONS } from '../ops';
import { binaryOp } from './elementwise';

/** The 15 numbers native/kernels.hpp's ConvShape holds. */
export function convShape(info: backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

function float32(...tensors: (TensorInfo | undefined)[]): boolean {
  return tensors.every((t) => t === undefined || t.dtype === 'float32');
}

/** Adds a bias (per last-axis channel) and applies an activation in place, or via broadcasting ops. */
function epilogue(
  backend: CudaBackend,
  y: TensorInfo,
  bias: TensorInfo | undefined,
  activation: string | undefined,
  leakyreluAlpha: number | undefined,
  prelu: TensorInfo | undefined,
): TensorInfo | undefined {
  const channels = y.shape.at(-1) ?? 1;
  const rows = util.sizeFromShape(y.shape) / Math.max(channels, 1);
  let out = y;
  let biasPtr = 0;
  if (bias) {
    if (util.sizeFromShape(bias.shape) === channels) {
      biasPtr = backend.ptr(bias);
    } else {
      const sum = binaryOp(backend, 'Add', y, bias);
      if (!sum) return undefined;
      backend.disposeData(y.dataId);
      out = sum;
    }
  }
  const act = activation ?? 'linear';
  if (act === 'prelu') {
    if (biasPtr) backend.addon.biasActivation(backend.ptr(out), rows, channels, biasPtr, 0, 0);
    const result = prelu ? binaryOp(backend, 'Prelu', out, prelu) : undefined;
    backend.disposeData(out.dataId);
    return result;
  }
  const code = ACTIVATIONS.indexOf(act as (typeof ACTIVATIONS)[number]);
  if (code < 0) {
    backend.disposeData(out.dataId);
    return undefined;
  }
  if ((biasPtr || code > 0) && rows * channels > 0) {
    backend.addon.biasActivation(backend.ptr(out), rows, channels, biasPtr, code, leakyreluAlpha ?? 0.2);
  }
  return out;
}

function conv2d(
  backend: CudaBackend,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
): TensorInfo | undefined {
  if (attrs.dataFormat === 'NCHW' || !float32(x, filter) || x.shape.length !== 4) return undefined;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const out = backend.makeTensorInfo(info.outShape, 'float32');
  if (util.sizeFromShape(info.outShape) > 0) {
    backend.addon.conv2d(convShape(info), backend.ptr(x), backend.ptr(filter), backend.ptr(out));
  }
  return out;
}

function conv2dKernel(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DAttrs;
  return (
    conv2d(args.backend as CudaBackend, x, filter, attrs) ??
    runOnCpu(Conv2D, args, `Conv2D (${attrs.dataFormat}, ${x.dtype})`)
  );
}

function fusedConv2dKernel(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  const label = `FusedConv2D (${attrs.dataFormat}, ${attrs.activation})`;
  if (!float32(bias, preluActivationWeights)) return runOnCpu(FusedConv2D, args, label);
  const y = conv2d(backend, x!, filter!, attrs);
  if (!y) return runOnCpu(FusedConv2D, args, label);
  return (
    epilogue(backend, y, bias, attrs.activation, attrs.leakyreluAlpha, preluActivationWeights) ??
    runOnCpu(FusedConv2D, args, label)
  );
}

function backpropInput(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  if (attrs.dataFormat === 'NCHW' || !float32(dy, filter)) {
    return runOnCpu(Conv2DBackpropInput, args, `Conv2DBackpropInput (${attrs.dataFormat})`);
  }
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const out = backend.makeTensorInfo(attrs.inputShape, 'float32');
  if (util.sizeFromShape(attrs.inputShape) === 0) return out;
  if (util.sizeFromShape(dy.shape) === 0) {
    backend.addon.fill(0, backend.ptr(out), util.sizeFromShape(attrs.inputShape), 0);
    return out;
  }
  backend.addon.conv2dBackpropInput(convShape(info), backend.ptr(dy), backend.ptr(filter), backend.ptr(out));
  return out;
}

function backpropFilter(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat === 'NCHW' || !float32(x, dy)) {
    return runOnCpu(Conv2DBackpropFilter, args, `Conv2DBackpropFilter (${attrs.dataFormat})`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const out = backend.makeTensorInfo(attrs.filterShape, 'float32');
  if (util.sizeFromShape(attrs.filterShape) === 0) return out;
  backend.addon.conv2dBackpropFilter(convShape(info), backend.ptr(x), backend.ptr(dy), backend.ptr(out));
  return out;
}

/** a·b over the last two axes; the batch axes of one side may be absent or 1. */
function matmul(
  backend: CudaBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo | undefined {
  if (!float32(a, b) || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) {
    throw new Error(
      `cuda: matMul inner dimensions differ (${k} and ${kb}) for shapes ${a.shape} and ${b.shape}`,
    );
  }
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  const outBatch = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeTensorInfo([...outBatch, m, n], 'float32');
  if (util.sizeFromShape(out.shape) === 0) return out;
  backend.addon.matmul(
    backend.ptr(a),
    backend.ptr(b),
    backend.ptr(out),
    batchA,
    batchB,
    m,
    k,
    n,
    transposeA,
    transposeB,
  );
  return out;
}

function batchMatMul(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  return (
    matmul(args.backend as CudaBackend, a, b, transposeA, transposeB) ??
    runOnCpu(BatchMatMul, args, `BatchMatMul (${a.dtype}, broadcast batch)`)
  );
}

function fusedMatMul(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as _FusedMatMulAttrs;
  const label = `_FusedMatMul (${attrs.activation})`;
  if (!float32(bias, preluActivationWeights)) return runOnCpu(_FusedMatMul, args, label);
  const y = matmul(backend, a!, b!, attrs.transposeA, attrs.transposeB);
  if (!y) return runOnCpu(_FusedMatMul, args, label);
  return (
    epilogue(backend, y, bias, attrs.activation, attrs.leakyreluAlpha, preluActivationWeights) ??
    runOnCpu(_FusedMatMul, args, label)
  );
}

export const convKernels: KernelConfig[] = [
  cudaKernel(Conv2D, conv2dKernel),
  cudaKernel(FusedConv2D, fusedConv2dKernel),
  cudaKernel(Conv2DBackpropInput, backpropInput),
  cudaKernel(Conv2DBackpropFilter, backpropFilter),
  cudaKernel(BatchMatMul, batchMatMul),
  cudaKernel(_FusedMatMul, fusedMatMul),
];
