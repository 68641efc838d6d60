import {
  backend_util,
  Concat,
  type ConcatAttrs,
  GatherV2,
  type GatherV2Attrs,
  type KernelConfig,
  OneHot,
  type OneHotAttrs,
  Pack,
  type PackAttrs,
  PadV2,
  type PadV2Attrs,
  Slice,
  type SliceAttrs,
  SplitV,
  type SplitVAttrs,
  StridedSlice,
  type StridedSliceAttrs,
  slice_util,
  type TensorInfo,
  Tile,
  type TileAttrs,
  Transpose,
  type TransposeAttrs,
  util,
} from '@tensorflow/tfjs-core';
import { type CudaBackend, deviceType, onDevice } from '../backend';
import { cudaKernel, type KernelArgs, runOnCpu } from '../fallback';
import { reshaped } from './elementwise';

const MAX_RANK = 6;

function deviceable(t: TensorInfo): boolean {
  return onDevice(t.dtype) && t.shape.length <= MAX_RANK;
}

/** The 32 bits of a fill value as the device stores it for a dtype. */
function valueBits(value: number, dtype: string): number {
  const words = new Uint32Array(1);
  if (dtype === 'float32') new Float32Array(words.buffer)[0] = value;
  else new Int32Array(words.buffer)[0] = value;
  return words[0]!;
}

export function transposed(backend: CudaBackend, x: TensorInfo, perm: number[]): TensorInfo {
  const shape = perm.map((p) => x.shape[p]!);
  const out = backend.makeTensorInfo(shape, x.dtype);
  if (util.sizeFromShape(shape) > 0) backend.addon.transpose(backend.ptr(x), x.shape, perm, backend.ptr(out));
  return out;
}

function transpose(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as unknown as TransposeAttrs;
  if (!deviceable(x)) return runOnCpu(Transpose, args, `Transpose (${x.dtype}, rank ${x.shape.length})`);
  if (perm.every((p, i) => p === i)) return reshaped(backend, x, x.shape);
  return transposed(backend, x, perm);
}

function stridedCopy(
  backend: CudaBackend,
  x: TensorInfo,
  begin: number[],
  step: number[],
  outShape: number[],
): TensorInfo {
  const out = backend.makeTensorInfo(outShape, x.dtype);
  if (util.sizeFromShape(outShape) > 0) {
    backend.addon.slice(backend.ptr(x), x.shape, begin, step, backend.ptr(out), outShape);
  }
  return out;
}

function slice(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  if (!deviceable(x)) return runOnCpu(Slice, args, `Slice (${x.dtype})`);
  const [$begin, $size] = slice_util.parseSliceParams(x as never, begin, size) as [number[], number[]];
  slice_util.assertParamsValid(x as never, $begin, $size);
  return stridedCopy(
    backend,
    x,
    $begin,
    $begin.map(() => 1),
    $size,
  );
}

function stridedSlice(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const a = args.attrs as unknown as StridedSliceAttrs;
  if (!deviceable(x)) return runOnCpu(StridedSlice, args, `StridedSlice (${x.dtype})`);
  const info = slice_util.sliceInfo(
    x.shape,
    a.begin,
    a.end,
    a.strides,
    a.beginMask,
    a.endMask,
    a.ellipsisMask,
    a.newAxisMask,
    a.shrinkAxisMask,
  );
  if (info.isIdentity) return reshaped(backend, x, info.finalShape);
  if (info.finalShapeSparse.length !== x.shape.length || info.finalShape.length > MAX_RANK) {
    return runOnCpu(StridedSlice, args, 'StridedSlice (new axes)');
  }
  const sparse = stridedCopy(backend, x, info.begin, info.strides, info.finalShapeSparse);
  const out = reshaped(backend, sparse, info.finalShape);
  backend.disposeData(sparse.dataId);
  return out;
}

function pad(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
  if (!deviceable(x) || paddings.some(([b, e]) => b! < 0 || e! < 0))
    return runOnCpu(PadV2, args, `PadV2 (${x.dtype})`);
  const outShape = x.shape.map((d, i) => paddings[i]![0]! + d + paddings[i]![1]!);
  const out = backend.makeTensorInfo(outShape, x.dtype);
  if (util.sizeFromShape(outShape) === 0) return out;
  const before = paddings.map((p) => p[0]!);
  const bits = valueBits(constantValue, x.dtype);
  if (util.sizeFromShape(x.shape) === 0) {
    backend.addon.fill(deviceType(x.dtype), backend.ptr(out), util.sizeFromShape(outShape), constantValue);
    return out;
  }
  backend.addon.pad(backend.ptr(x), x.shape, before, bits, backend.ptr(out), outShape);
  return out;
}

function tile(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { reps } = args.attrs as unknown as TileAttrs;
  if (!deviceable(x)) return runOnCpu(Tile, args, `Tile (${x.dtype})`);
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  const out = backend.makeTensorInfo(outShape, x.dtype);
  if (util.sizeFromShape(outShape) > 0)
    backend.addon.tile(backend.ptr(x), x.shape, backend.ptr(out), outShape);
  return out;
}

/** Joins tensors along `axis` as column blocks of [outer, inner] matrices. */
function concatenated(backend: CudaBackend, tensors: TensorInfo[], axis: number): TensorInfo {
  const outShape = backend_util.computeOutShape(
    tensors.map((t) => t.shape),
    axis,
  );
  const out = backend.makeTensorInfo(outShape, tensors[0]!.dtype);
  const outer = util.sizeFromShape(outShape.slice(0, axis));
  const outCols = util.sizeFromShape(outShape.slice(axis));
  let offset = 0;
  for (const t of tensors) {
    const cols = util.sizeFromShape(t.shape.slice(axis));
    if (cols > 0 && outer > 0)
      backend.addon.copyColumns(backend.ptr(t), outer, cols, backend.ptr(out), outCols, offset);
    offset += cols;
  }
  return out;
}

function concat(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const tensors = args.inputs as unknown as TensorInfo[];
  const { axis } = args.attrs as unknown as ConcatAttrs;
  const $axis = util.parseAxisParam(axis, tensors[0]!.shape)[0]!;
  const dtype = tensors[0]!.dtype;
  if (!tensors.every((t) => deviceable(t) && t.dtype === dtype))
    return runOnCpu(Concat, args, `Concat (${dtype})`);
  const nonEmpty = tensors.filter((t) => util.sizeFromShape(t.shape) > 0);
  if (nonEmpty.length === 1) return reshaped(backend, nonEmpty[0]!, nonEmpty[0]!.shape);
  backend_util.assertParamsConsistent(
    tensors.map((t) => t.shape),
    $axis,
  );
  return concatenated(backend, tensors, $axis);
}

function pack(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const tensors = args.inputs as unknown as TensorInfo[];
  const { axis } = args.attrs as unknown as PackAttrs;
  const first = tensors[0]!;
  if (!tensors.every((t) => deviceable(t) && t.dtype === first.dtype) || first.shape.length + 1 > MAX_RANK) {
    return runOnCpu(Pack, args, `Pack (${first.dtype})`);
  }
  const $axis = axis < 0 ? axis + first.shape.length + 1 : axis;
  const expanded = tensors.map((t) => {
    const shape = [...t.shape];
    shape.splice($axis, 0, 1);
    return reshaped(backend, t, shape);
  });
  const out = concatenated(backend, expanded, $axis);
  for (const t of expanded) backend.disposeData(t.dataId);
  return out;
}

function oneHot(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { indices } = args.inputs as { indices: TensorInfo };
  const { depth, onValue, offValue, dtype } = args.attrs as unknown as OneHotAttrs;
  const outDtype = dtype ?? 'int32';
  if (indices.dtype !== 'int32' || !onDevice(outDtype)) {
    return runOnCpu(OneHot, args, `OneHot (${indices.dtype} to ${outDtype})`);
  }
  const n = util.sizeFromShape(indices.shape);
  const out = backend.makeTensorInfo([...indices.shape, depth], outDtype);
  if (n * depth > 0) {
    const [on, off] = [valueBits(onValue, outDtype), valueBits(offValue, outDtype)];
    backend.addon.oneHot(backend.ptr(indices), n, depth, on, off, backend.ptr(out));
  }
  return out;
}

function splitV(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
  if (!deviceable(x)) return runOnCpu(SplitV, args, `SplitV (${x.dtype})`);
  const $axis = util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
  const begin = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  return sizes.map((size) => {
    const shape = [...x.shape];
    shape[$axis] = size;
    const out = stridedCopy(backend, x, [...begin], step, shape);
    begin[$axis]! += size;
    return out;
  });
}

function gather(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
  if (!deviceable(x) || indices.dtype !== 'int32' || (batchDims ?? 0) !== 0) {
    return runOnCpu(GatherV2, args, `GatherV2 (${x.dtype}, batchDims ${batchDims})`);
  }
  const $axis = util.parseAxisParam(axis, x.shape)[0]!;
  const outer = util.sizeFromShape(x.shape.slice(0, $axis));
  const inner = util.sizeFromShape(x.shape.slice($axis + 1));
  const count = util.sizeFromShape(indices.shape);
  const outShape = [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)];
  const out = backend.makeTensorInfo(outShape, x.dtype);
  if (outer * count * inner > 0) {
    backend.addon.gather(
      backend.ptr(x),
      outer,
      x.shape[$axis]!,
      inner,
      backend.ptr(indices),
      count,
      backend.ptr(out),
    );
  }
  return out;
}

export const layoutKernels: KernelConfig[] = [
  cudaKernel(Transpose, transpose),
  cudaKernel(Slice, slice),
  cudaKernel(StridedSlice, stridedSlice),
  cudaKernel(PadV2, pad),
  cudaKernel(Tile, tile),
  cudaKernel(Concat, concat),
  cudaKernel(Pack, pack),
  cudaKernel(OneHot, oneHot),
  cudaKernel(SplitV, splitV),
  cudaKernel(GatherV2, gather),
];
