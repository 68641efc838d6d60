import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  Abs,
  Add,
  backend_util,
  Elu,
  Exp,
  engine,
  type KernelConfig,
  Log,
  Max,
  Maximum,
  Mean,
  Min,
  Minimum,
  Multiply,
  Neg,
  PadV2,
  RealDiv,
  Reciprocal,
  Relu,
  Relu6,
  Rsqrt,
  Sigmoid,
  Slice,
  Sqrt,
  Square,
  SquaredDifference,
  Step,
  Sub,
  Sum,
  Tanh,
  type Tensor,
  type TensorInfo,
  Tile,
  util,
} from '@tensorflow/tfjs-core';
import { float32Of, outputArray, sizeOf } from '../data';
import { defineNativeGradient } from '../gradients';
import { type BinaryOp, type ReduceOp, requireAddon, type UnaryOp } from '../native';
import { cpuKernel, type KernelArgs, onednnKernel } from './fallback';

const dims = (shape: readonly number[]) => Int32Array.from(shape);

/** The tfjs kernels run by the addon's binary ops. */
const BINARY: [string, BinaryOp][] = [
  [Add, 'add'],
  [Sub, 'sub'],
  [Multiply, 'mul'],
  [RealDiv, 'div'],
  [Maximum, 'max'],
  [Minimum, 'min'],
  [SquaredDifference, 'squaredDifference'],
];

/** Runs the addon's binary op `op` (by name; its code is the addon's). */
function binary(
  op: BinaryOp,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  out: Float32Array,
  outShape: readonly number[],
): void {
  const addon = requireAddon();
  addon.binary(addon.opCodes.binary[op], a, dims(aShape), b, dims(bShape), out, dims(outShape));
}

function binaryKernel(kernelName: string, op: BinaryOp): KernelConfig {
  return onednnKernel(kernelName, (args: KernelArgs) => {
    const backend = args.backend as MathBackendCPU;
    const { a, b } = args.inputs as Record<string, TensorInfo>;
    const av = float32Of(backend, a!);
    const bv = float32Of(backend, b!);
    if (!av || !bv) return cpuKernel(kernelName, args);
    const outShape = backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    const out = outputArray(sizeOf(outShape));
    binary(op, av, a!.shape, bv, b!.shape, out, outShape);
    return backend.makeTensorInfo(outShape, 'float32', out);
  });
}

/** The tfjs kernels run by the addon's unary ops. */
const UNARY: [string, UnaryOp][] = [
  [Relu, 'relu'],
  [Relu6, 'relu6'],
  [Neg, 'neg'],
  [Square, 'square'],
  [Sqrt, 'sqrt'],
  [Rsqrt, 'rsqrt'],
  [Exp, 'exp'],
  [Log, 'log'],
  [Abs, 'abs'],
  [Step, 'step'],
  [Sigmoid, 'sigmoid'],
  [Tanh, 'tanh'],
  [Reciprocal, 'reciprocal'],
  [Elu, 'elu'],
];

function unaryKernel(kernelName: string, op: UnaryOp): KernelConfig {
  return onednnKernel(kernelName, (args: KernelArgs) => {
    const backend = args.backend as MathBackendCPU;
    const { x } = args.inputs as Record<string, TensorInfo>;
    const xv = float32Of(backend, x!);
    if (!xv) return cpuKernel(kernelName, args);
    const out = outputArray(xv.length);
    const alpha = (args.attrs as { alpha?: number } | undefined)?.alpha ?? 0;
    const addon = requireAddon();
    addon.unary(addon.opCodes.unary[op], xv, out, alpha);
    return backend.makeTensorInfo(x!.shape, 'float32', out);
  });
}

/** The tfjs kernels run by the addon's reductions. */
const REDUCE: [string, ReduceOp][] = [
  [Sum, 'sum'],
  [Mean, 'mean'],
  [Max, 'max'],
  [Min, 'min'],
];

/**
 * Collapses a shape and its reduced axes to [outer, reduced, inner]; undefined when the reduced
 * axes are not one contiguous block (after dropping size-1 dims), which falls back to tfjs.
 */
export function collapseReduction(
  shape: readonly number[],
  axes: readonly number[],
): [number, number, number] | undefined {
  let outer = 1;
  let reduced = 1;
  let inner = 1;
  let phase = 0; // 0: before the reduced block, 1: inside it, 2: after it
  for (let i = 0; i < shape.length; i++) {
    const size = shape[i]!;
    if (size === 1) continue;
    const isReduced = axes.includes(i);
    if (isReduced) {
      if (phase === 2) return undefined;
      phase = 1;
      reduced *= size;
    } else if (phase === 0) {
      outer *= size;
    } else {
      phase = 2;
      inner *= size;
    }
  }
  return [outer, reduced, inner];
}

function reduceKernel(kernelName: string, op: ReduceOp): KernelConfig {
  return onednnKernel(kernelName, (args: KernelArgs) => {
    const backend = args.backend as MathBackendCPU;
    const { x } = args.inputs as Record<string, TensorInfo>;
    // Sum and Mean name their axes `axis`, Max and Min `reductionIndices`.
    const attrs = args.attrs as unknown as {
      axis?: number | number[] | null;
      reductionIndices?: number | number[] | null;
      keepDims: boolean;
    };
    const keepDims = attrs.keepDims;
    const xv = float32Of(backend, x!);
    // null or absent means every axis (tf.mean(x)), as parseAxisParam reads it.
    const axes = util.parseAxisParam((attrs.axis ?? attrs.reductionIndices) as number | number[], x!.shape);
    const krk = xv && axes.length > 0 && xv.length > 0 ? collapseReduction(x!.shape, axes) : undefined;
    if (!xv || !krk) return cpuKernel(kernelName, args);
    const outShape = keepDims
      ? x!.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x!.shape.filter((_, i) => !axes.includes(i));
    const out = outputArray(krk[0] * krk[2]);
    const addon = requireAddon();
    addon.reduce(addon.opCodes.reduce[op], xv, Int32Array.from(krk), out);
    return backend.makeTensorInfo(outShape, 'float32', out);
  });
}

const tileKernel = onednnKernel(Tile, (args: KernelArgs) => {
  const backend = args.backend as MathBackendCPU;
  const { x } = args.inputs as Record<string, TensorInfo>;
  const { reps } = args.attrs as unknown as { reps: number[] };
  const xv = float32Of(backend, x!);
  const outShape = x!.shape.map((d, i) => d * reps[i]!);
  // An empty result (a zero repeat) has nothing for the native loop to do: tfjs returns it empty.
  if (!xv || x!.shape.length === 0 || xv.length === 0 || sizeOf(outShape) === 0) return cpuKernel(Tile, args);
  const out = outputArray(sizeOf(outShape));
  requireAddon().tile(xv, dims(x!.shape), out, dims(outShape));
  return backend.makeTensorInfo(outShape, 'float32', out);
});

const sliceKernel = onednnKernel(Slice, (args: KernelArgs) => {
  const backend = args.backend as MathBackendCPU;
  const { x } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const xv = float32Of(backend, x!);
  if (!xv || x!.shape.length === 0) return cpuKernel(Slice, args);
  const [begin, size] = sliceBeginAndSize(x!.shape, attrs.begin, attrs.size);
  if (begin.every((b) => b === 0) && size.every((s, i) => s === x!.shape[i])) {
    // The whole tensor (tfjs-layers' predict slices its one batch out of the input): share the
    // data, as the cpu backend's Identity does; tensor data is immutable, so no copy is needed.
    backend.incRef(x!.dataId);
    return { dataId: x!.dataId, shape: size, dtype: x!.dtype };
  }
  const out = outputArray(sizeOf(size));
  if (out.length > 0) requireAddon().slice(xv, dims(x!.shape), dims(begin), out, dims(size));
  return backend.makeTensorInfo(size, 'float32', out);
});

/** tfjs's slice attributes (scalars, -1 sizes) resolved to full begin and size arrays. */
function sliceBeginAndSize(
  shape: number[],
  begin: number | number[],
  size: number | number[],
): [number[], number[]] {
  const b = shape.map((_, i) => (typeof begin === 'number' ? (i === 0 ? begin : 0) : (begin[i] ?? 0)));
  const s = shape.map((d, i) => {
    const requested = typeof size === 'number' ? (i === 0 ? size : -1) : (size[i] ?? -1);
    return requested === -1 ? d - b[i]! : requested;
  });
  return [b, s];
}

const padKernel = onednnKernel(PadV2, (args: KernelArgs) => {
  const backend = args.backend as MathBackendCPU;
  const { x } = args.inputs as Record<string, TensorInfo>;
  const { paddings, constantValue } = args.attrs as unknown as {
    paddings: [number, number][];
    constantValue: number;
  };
  const xv = float32Of(backend, x!);
  // Negative paddings (tfjs does not refuse them) would write outside the native buffers.
  if (!xv || x!.shape.length === 0 || xv.length === 0 || paddings.flat().some((p) => p < 0))
    return cpuKernel(PadV2, args);
  const outShape = x!.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
  const out = outputArray(sizeOf(outShape));
  requireAddon().pad(xv, dims(x!.shape), dims(paddings.map((p) => p[0])), out, dims(outShape), constantValue);
  return backend.makeTensorInfo(outShape, 'float32', out);
});

export const elementwiseKernels: KernelConfig[] = [
  ...BINARY.map(([name, op]) => binaryKernel(name, op)),
  ...UNARY.map(([name, op]) => unaryKernel(name, op)),
  ...REDUCE.map(([name, op]) => reduceKernel(name, op)),
  tileKernel,
  sliceKernel,
  padKernel,
];

/** dy * step(x) in one pass (tfjs: Step then Multiply). */
export const RELU_GRAD = 'OneDnnReluGrad';
/** dy * 2x in one pass (tfjs: two Multiply). */
export const SQUARE_GRAD = 'OneDnnSquareGrad';
/** Mean's gradient, dy / n broadcast back to the input shape in one pass (tfjs: Fill, Multiply, RealDiv). */
export const MEAN_GRAD = 'OneDnnMeanGrad';

/** A gradient kernel f(dy, x) of the same shape as x, as a native binary op. */
function elementwiseGradKernel(kernelName: string, op: BinaryOp): KernelConfig {
  return onednnKernel(kernelName, (args: KernelArgs) => {
    const backend = args.backend as MathBackendCPU;
    const { dy, x } = args.inputs as Record<string, TensorInfo>;
    const dyv = float32Of(backend, dy!)!;
    const xv = float32Of(backend, x!)!;
    const out = outputArray(xv.length);
    binary(op, dyv, dy!.shape, xv, x!.shape, out, x!.shape);
    return backend.makeTensorInfo(x!.shape, 'float32', out);
  });
}

const meanGradKernel = onednnKernel(MEAN_GRAD, (args: KernelArgs) => {
  const backend = args.backend as MathBackendCPU;
  const { dy } = args.inputs as Record<string, TensorInfo>;
  const { inShape, axes } = args.attrs as unknown as { inShape: number[]; axes: number[] };
  const dyv = float32Of(backend, dy!)!;
  const keptShape = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const count = axes.reduce((n, a) => n * inShape[a]!, 1);
  const out = outputArray(sizeOf(inShape));
  binary('mul', dyv, keptShape, Float32Array.of(1 / count), [], out, inShape);
  return backend.makeTensorInfo(inShape, 'float32', out);
});

for (const [kernelName, gradKernel] of [
  [Relu, RELU_GRAD],
  [Square, SQUARE_GRAD],
] as const) {
  defineNativeGradient(kernelName, (dy, [x]) => {
    if (dy.dtype !== 'float32' || x!.dtype !== 'float32') return undefined;
    return { x: () => engine().runKernel(gradKernel, { dy, x: x! }) as Tensor };
  });
}

defineNativeGradient(Mean, (dy, [x], attrs) => {
  if (dy.dtype !== 'float32' || x!.dtype !== 'float32' || x!.size === 0) return undefined;
  const axes = util.parseAxisParam((attrs as { axis: number | number[] }).axis, x!.shape);
  return { x: () => engine().runKernel(MEAN_GRAD, { dy }, { inShape: x!.shape, axes }) as Tensor };
});

export const gradientKernels: KernelConfig[] = [
  elementwiseGradKernel(RELU_GRAD, 'reluGrad'),
  elementwiseGradKernel(SQUARE_GRAD, 'squareGrad'),
  meanGradKernel,
];
