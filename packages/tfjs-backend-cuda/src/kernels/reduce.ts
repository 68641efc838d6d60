import {
  All,
  Any,
  ArgMax,
  ArgMin,
  backend_util,
  type DataType,
  type KernelConfig,
  Max,
  Mean,
  Min,
  Prod,
  Softmax,
  type SoftmaxAttrs,
  Sum,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { type CudaBackend, deviceType, onDevice } from '../backend';
import { cudaKernel, type KernelArgs, runOnCpu } from '../fallback';
import { type ReduceOp, reduceCode } from '../ops';
import { reshaped } from './elementwise';
import { transposed } from './layout';

/**
 * Reduces `x` over `axes` as [outer, reduced, inner]: contiguous axes need no copy; others are
 * moved innermost first.
 */
export function reduced(
  backend: CudaBackend,
  op: ReduceOp,
  x: TensorInfo,
  axes: number[],
  keepDims: boolean,
  outDtype: DataType,
): TensorInfo {
  const sorted = [...axes].sort((p, q) => p - q);
  const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, sorted);
  const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, sorted) : outShape;
  const r = util.sizeFromShape(reduceShape);
  const contiguous = sorted.every((a, i) => i === 0 || a === sorted[i - 1]! + 1);
  let input = x;
  let outer: number;
  let inner: number;
  if (contiguous && sorted.length > 0) {
    outer = util.sizeFromShape(x.shape.slice(0, sorted[0]));
    inner = util.sizeFromShape(x.shape.slice(sorted.at(-1)! + 1));
  } else {
    const perm = backend_util.getAxesPermutation(sorted, x.shape.length);
    input = perm ? transposed(backend, x, perm) : x;
    outer = util.sizeFromShape(outShape);
    inner = 1;
  }
  const out = backend.makeTensorInfo(shape, outDtype);
  if (outer * inner > 0) {
    backend.addon.reduce(
      reduceCode(op),
      deviceType(x.dtype),
      backend.ptr(input),
      outer,
      r,
      inner,
      backend.ptr(out),
    );
  }
  if (input !== x) backend.disposeData(input.dataId);
  return out;
}

function reduceKernel(kernelName: string, op: ReduceOp, axisAttr: 'axis' | 'reductionIndices' = 'axis') {
  return cudaKernel(kernelName, (args) => {
    const backend = args.backend as CudaBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const attrs = args.attrs as Record<string, unknown>;
    const keepDims = (attrs.keepDims as boolean | undefined) ?? false;
    const isArg = op === 'ArgMax' || op === 'ArgMin';
    if (!onDevice(x.dtype) || (op === 'Mean' && x.dtype !== 'float32') || x.shape.length > 6) {
      return runOnCpu(kernelName, args, `${kernelName} (${x.dtype})`);
    }
    const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    if (axes.length === 0 && !isArg) return reshaped(backend, x, x.shape);
    let outDtype: DataType = x.dtype;
    if (isArg) outDtype = 'int32';
    else if (op === 'All' || op === 'Any') outDtype = 'bool';
    else if ((op === 'Sum' || op === 'Prod') && x.dtype === 'bool') outDtype = 'int32';
    return reduced(backend, op, x, isArg ? axes.slice(0, 1) : axes, keepDims, outDtype);
  });
}

function softmax(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { logits } = args.inputs as { logits: TensorInfo };
  const { dim } = args.attrs as unknown as SoftmaxAttrs;
  const rank = logits.shape.length;
  if (logits.dtype !== 'float32' || (dim !== -1 && dim !== rank - 1)) {
    return runOnCpu(Softmax, args, `Softmax (${logits.dtype}, dim ${dim})`);
  }
  const cols = logits.shape[rank - 1] ?? 1;
  const rows = util.sizeFromShape(logits.shape) / Math.max(cols, 1);
  const out = backend.makeTensorInfo(logits.shape, 'float32');
  if (rows * cols > 0) backend.addon.softmax(backend.ptr(logits), rows, cols, backend.ptr(out), false);
  return out;
}

export const reduceKernels: KernelConfig[] = [
  reduceKernel(Sum, 'Sum'),
  reduceKernel(Mean, 'Mean'),
  reduceKernel(Max, 'Max', 'reductionIndices'),
  reduceKernel(Min, 'Min'),
  reduceKernel(Prod, 'Prod'),
  reduceKernel(All, 'All'),
  reduceKernel(Any, 'Any'),
  reduceKernel(ArgMax, 'ArgMax'),
  reduceKernel(ArgMin, 'ArgMin'),
  cudaKernel(Softmax, softmax),
];
