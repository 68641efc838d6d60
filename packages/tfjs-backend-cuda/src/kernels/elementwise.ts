import {
  Abs,
  Add,
  AddN,
  type AddNInputs,
  Atan2,
  backend_util,
  Cast,
  type CastAttrs,
  Ceil,
  ClipByValue,
  type ClipByValueAttrs,
  Cos,
  type DataType,
  Elu,
  Equal,
  Erf,
  Exp,
  Expm1,
  Fill,
  type FillAttrs,
  Floor,
  FloorDiv,
  Greater,
  GreaterEqual,
  Identity,
  IsFinite,
  IsInf,
  IsNan,
  type KernelConfig,
  LeakyRelu,
  type LeakyReluAttrs,
  Less,
  LessEqual,
  Log,
  Log1p,
  LogicalAnd,
  LogicalNot,
  LogicalOr,
  Maximum,
  Minimum,
  Mod,
  Multiply,
  Neg,
  NotEqual,
  OnesLike,
  Pow,
  Prelu,
  RealDiv,
  Reciprocal,
  Relu,
  Relu6,
  Reshape,
  type ReshapeAttrs,
  Round,
  Rsqrt,
  Select,
  Selu,
  Sigmoid,
  Sign,
  Sin,
  Softplus,
  Sqrt,
  Square,
  SquaredDifference,
  Step,
  type StepAttrs,
  Sub,
  Tanh,
  type TensorInfo,
  util,
  ZerosLike,
} from '@tensorflow/tfjs-core';
import { type CudaBackend, deviceType, F32, I32, onDevice } from '../backend';
import { cudaKernel, type KernelArgs, runOnCpu } from '../fallback';
import { type BinaryOp, binaryCode, type UnaryOp, unaryCode } from '../ops';

const MAX_RANK = 6;

/** A tensor's values under another shape, without a copy (the data id is shared). */
export function reshaped(backend: CudaBackend, x: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

function unaryKernel(
  kernelName: string,
  op: UnaryOp,
  params?: (attrs: KernelArgs['attrs']) => [number, number],
) {
  return cudaKernel(kernelName, (args) => {
    const backend = args.backend as CudaBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const dtype = x.dtype === 'bool' ? 'int32' : x.dtype;
    if (!onDevice(x.dtype) || !backend.addon.supports('unary', unaryCode(op), deviceType(dtype))) {
      return runOnCpu(kernelName, args, `${kernelName} (${x.dtype})`);
    }
    const [a, b] = params ? params(args.attrs) : [0, 0];
    const isPredicate = op === 'IsNan' || op === 'IsInf' || op === 'IsFinite';
    const outDtype: DataType = op === 'LogicalNot' || isPredicate ? 'bool' : x.dtype;
    const size = util.sizeFromShape(x.shape);
    if (isPredicate) {
      // Computed as 0/1 floats, then cast to the bool words the device keeps.
      const scratch = backend.makeTensorInfo(x.shape, 'float32');
      backend.addon.unary(unaryCode(op), F32, backend.ptr(x), backend.ptr(scratch), size, a, b);
      const out = backend.makeTensorInfo(x.shape, 'bool');
      backend.addon.cast(F32, I32, true, backend.ptr(scratch), backend.ptr(out), size);
      backend.disposeData(scratch.dataId);
      return out;
    }
    const out = backend.makeTensorInfo(x.shape, outDtype);
    backend.addon.unary(unaryCode(op), deviceType(dtype), backend.ptr(x), backend.ptr(out), size, a, b);
    return out;
  });
}

const COMPARISONS = new Set<BinaryOp>([
  'Equal',
  'NotEqual',
  'Less',
  'LessEqual',
  'Greater',
  'GreaterEqual',
  'LogicalAnd',
  'LogicalOr',
]);

/** a op b with broadcasting; undefined when the device cannot do this case. */
export function binaryOp(
  backend: CudaBackend,
  op: BinaryOp,
  a: TensorInfo,
  b: TensorInfo,
): TensorInfo | undefined {
  if (!onDevice(a.dtype) || !onDevice(b.dtype)) return undefined;
  const dtype = deviceType(a.dtype);
  if (dtype !== deviceType(b.dtype) || !backend.addon.supports('binary', binaryCode(op), dtype))
    return undefined;
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (outShape.length > MAX_RANK || a.shape.length > MAX_RANK || b.shape.length > MAX_RANK) return undefined;
  const outDtype: DataType = COMPARISONS.has(op) ? 'bool' : a.dtype === 'bool' ? 'int32' : a.dtype;
  const out = backend.makeTensorInfo(outShape, outDtype);
  if (util.sizeFromShape(outShape) === 0) return out;
  backend.addon.binary(
    binaryCode(op),
    dtype,
    backend.ptr(a),
    a.shape,
    backend.ptr(b),
    b.shape,
    backend.ptr(out),
    deviceType(outDtype),
    outShape,
  );
  return out;
}

function binaryKernel(kernelName: string, op: BinaryOp, inputNames: [string, string] = ['a', 'b']) {
  return cudaKernel(kernelName, (args) => {
    const backend = args.backend as CudaBackend;
    const inputs = args.inputs as Record<string, TensorInfo>;
    const [a, b] = [inputs[inputNames[0]]!, inputs[inputNames[1]]!];
    return binaryOp(backend, op, a, b) ?? runOnCpu(kernelName, args, `${kernelName} (${a.dtype})`);
  });
}

function cast(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as CastAttrs;
  if (!onDevice(x.dtype) || !onDevice(dtype)) return runOnCpu(Cast, args, `Cast (${x.dtype} to ${dtype})`);
  if (x.dtype === dtype || (x.dtype === 'bool' && dtype === 'int32')) {
    // Same device words: share them under the new dtype.
    if (x.dtype === dtype) return reshaped(backend, x, x.shape);
    const out = backend.makeTensorInfo(x.shape, dtype);
    backend.addon.copy(backend.ptr(out), backend.ptr(x), util.sizeFromShape(x.shape) * 4);
    return out;
  }
  const out = backend.makeTensorInfo(x.shape, dtype);
  const size = util.sizeFromShape(x.shape);
  if (size > 0) {
    backend.addon.cast(
      deviceType(x.dtype),
      deviceType(dtype),
      dtype === 'bool',
      backend.ptr(x),
      backend.ptr(out),
      size,
    );
  }
  return out;
}

export function filled(backend: CudaBackend, shape: number[], dtype: DataType, value: number): TensorInfo {
  const out = backend.makeTensorInfo(shape, dtype);
  const size = util.sizeFromShape(shape);
  if (size > 0) backend.addon.fill(deviceType(dtype), backend.ptr(out), size, value);
  return out;
}

function fillKernel(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { shape, value, dtype } = args.attrs as unknown as FillAttrs;
  const type = dtype ?? util.inferDtype(value);
  if (!onDevice(type) || typeof value !== 'number') return runOnCpu(Fill, args, `Fill (${type})`);
  return filled(backend, shape, type, value);
}

function likeKernel(kernelName: string, value: number) {
  return cudaKernel(kernelName, (args) => {
    const backend = args.backend as CudaBackend;
    const { x } = args.inputs as { x: TensorInfo };
    if (!onDevice(x.dtype)) return runOnCpu(kernelName, args, `${kernelName} (${x.dtype})`);
    return filled(backend, x.shape, x.dtype, value);
  });
}

function addN(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const tensors = args.inputs as unknown as AddNInputs as TensorInfo[];
  if (tensors.length === 1) return reshaped(backend, tensors[0]!, tensors[0]!.shape);
  let sum = binaryOp(backend, 'Add', tensors[0]!, tensors[1]!);
  for (let i = 2; sum && i < tensors.length; i++) {
    const next = binaryOp(backend, 'Add', sum, tensors[i]!);
    backend.disposeData(sum.dataId);
    sum = next;
  }
  return sum ?? runOnCpu(AddN, args, `AddN (${tensors[0]!.dtype})`);
}

function select(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as CudaBackend;
  const { condition, t, e } = args.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
  if (!onDevice(t.dtype) || t.shape.length > MAX_RANK) return runOnCpu(Select, args, `Select (${t.dtype})`);
  const out = backend.makeTensorInfo(t.shape, t.dtype);
  if (util.sizeFromShape(t.shape) > 0) {
    backend.addon.select(
      backend.ptr(condition),
      condition.shape,
      backend.ptr(t),
      backend.ptr(e),
      backend.ptr(out),
      t.shape,
    );
  }
  return out;
}

const alphaOf = (attrs: KernelArgs['attrs']): [number, number] => [
  (attrs as unknown as StepAttrs).alpha ?? 0,
  0,
];

export const elementwiseKernels: KernelConfig[] = [
  unaryKernel(Neg, 'Neg'),
  unaryKernel(Abs, 'Abs'),
  unaryKernel(Exp, 'Exp'),
  unaryKernel(Log, 'Log'),
  unaryKernel(Log1p, 'Log1p'),
  unaryKernel(Expm1, 'Expm1'),
  unaryKernel(Sqrt, 'Sqrt'),
  unaryKernel(Rsqrt, 'Rsqrt'),
  unaryKernel(Square, 'Square'),
  unaryKernel(Reciprocal, 'Reciprocal'),
  unaryKernel(Relu, 'Relu'),
  unaryKernel(Relu6, 'Relu6'),
  unaryKernel(Step, 'Step', alphaOf),
  unaryKernel(Sigmoid, 'Sigmoid'),
  unaryKernel(Tanh, 'Tanh'),
  unaryKernel(Floor, 'Floor'),
  unaryKernel(Ceil, 'Ceil'),
  unaryKernel(Round, 'Round'),
  unaryKernel(Sign, 'Sign'),
  unaryKernel(Sin, 'Sin'),
  unaryKernel(Cos, 'Cos'),
  unaryKernel(Elu, 'Elu'),
  unaryKernel(Selu, 'Selu'),
  unaryKernel(Softplus, 'Softplus'),
  unaryKernel(Erf, 'Erf'),
  unaryKernel(LeakyRelu, 'LeakyRelu', (attrs) => [(attrs as unknown as LeakyReluAttrs).alpha, 0]),
  unaryKernel(ClipByValue, 'ClipByValue', (attrs) => {
    const { clipValueMin, clipValueMax } = attrs as unknown as ClipByValueAttrs;
    return [clipValueMin, clipValueMax];
  }),
  unaryKernel(IsNan, 'IsNan'),
  unaryKernel(IsInf, 'IsInf'),
  unaryKernel(IsFinite, 'IsFinite'),
  unaryKernel(LogicalNot, 'LogicalNot'),
  binaryKernel(Add, 'Add'),
  binaryKernel(Sub, 'Sub'),
  binaryKernel(Multiply, 'Multiply'),
  binaryKernel(RealDiv, 'RealDiv'),
  binaryKernel(Maximum, 'Maximum'),
  binaryKernel(Minimum, 'Minimum'),
  binaryKernel(Pow, 'Pow'),
  binaryKernel(SquaredDifference, 'SquaredDifference'),
  binaryKernel(FloorDiv, 'FloorDiv'),
  binaryKernel(Mod, 'Mod'),
  binaryKernel(Equal, 'Equal'),
  binaryKernel(NotEqual, 'NotEqual'),
  binaryKernel(Less, 'Less'),
  binaryKernel(LessEqual, 'LessEqual'),
  binaryKernel(Greater, 'Greater'),
  binaryKernel(GreaterEqual, 'GreaterEqual'),
  binaryKernel(LogicalAnd, 'LogicalAnd'),
  binaryKernel(LogicalOr, 'LogicalOr'),
  binaryKernel(Atan2, 'Atan2'),
  binaryKernel(Prelu, 'Prelu', ['x', 'alpha']),
  cudaKernel(Cast, cast),
  cudaKernel(Fill, fillKernel),
  likeKernel(ZerosLike, 0),
  likeKernel(OnesLike, 1),
  cudaKernel(AddN, addN),
  cudaKernel(Select, select),
  cudaKernel(Identity, (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    return reshaped(args.backend as CudaBackend, x, x.shape);
  }),
  cudaKernel(Reshape, (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { shape } = args.attrs as unknown as ReshapeAttrs;
    return reshaped(
      args.backend as CudaBackend,
      x,
      util.inferFromImplicitShape(shape, util.sizeFromShape(x.shape)),
    );
  }),
];
