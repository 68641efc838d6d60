/**
 * Op codes of the addon, in the order native/ops.hpp lists them (a test compares both lists).
 * Most names are the tfjs kernel they implement.
 */
export const UNARY_OPS = [
  'Neg',
  'Abs',
  'Exp',
  'Log',
  'Log1p',
  'Expm1',
  'Sqrt',
  'Rsqrt',
  'Square',
  'Reciprocal',
  'Relu',
  'Relu6',
  'Step',
  'Sigmoid',
  'Tanh',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Sin',
  'Cos',
  'Elu',
  'Selu',
  'Softplus',
  'Erf',
  'LeakyRelu',
  'ClipByValue',
  'IsNan',
  'IsInf',
  'IsFinite',
  'LogicalNot',
] as const;

export const BINARY_OPS = [
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Maximum',
  'Minimum',
  'Pow',
  'SquaredDifference',
  'FloorDiv',
  'Mod',
  'Equal',
  'NotEqual',
  'Less',
  'LessEqual',
  'Greater',
  'GreaterEqual',
  'LogicalAnd',
  'LogicalOr',
  'Atan2',
  'Prelu',
] as const;

export const REDUCE_OPS = ['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any', 'ArgMax', 'ArgMin'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];

export const unaryCode = (op: UnaryOp): number => UNARY_OPS.indexOf(op);
export const binaryCode = (op: BinaryOp): number => BINARY_OPS.indexOf(op);
export const reduceCode = (op: ReduceOp): number => REDUCE_OPS.indexOf(op);

/** Activations that products and convolutions apply in their epilogue (native kernels.hpp). */
export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'] as const;
