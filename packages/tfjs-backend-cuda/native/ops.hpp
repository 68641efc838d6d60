// Op codes shared with the TypeScript side (src/ops.ts); the addon exports these name tables and
// a test checks that both sides list the same names in the same order.
#pragma once

namespace ops {

#define RT_UNARY_OPS(X)                                                                          \
  X(Neg) X(Abs) X(Exp) X(Log) X(Log1p) X(Expm1) X(Sqrt) X(Rsqrt) X(Square) X(Reciprocal) X(Relu) \
  X(Relu6) X(Step) X(Sigmoid) X(Tanh) X(Floor) X(Ceil) X(Round) X(Sign) X(Sin) X(Cos) X(Elu)     \
  X(Selu) X(Softplus) X(Erf) X(LeakyRelu) X(ClipByValue) X(IsNan) X(IsInf) X(IsFinite)            \
  X(LogicalNot)

#define RT_BINARY_OPS(X)                                                                           \
  X(Add) X(Sub) X(Multiply) X(RealDiv) X(Maximum) X(Minimum) X(Pow) X(SquaredDifference)            \
  X(FloorDiv) X(Mod) X(Equal) X(NotEqual) X(Less) X(LessEqual) X(Greater) X(GreaterEqual)          \
  X(LogicalAnd) X(LogicalOr) X(Atan2) X(Prelu)

#define RT_REDUCE_OPS(X) X(Sum) X(Mean) X(Max) X(Min) X(Prod) X(All) X(Any) X(ArgMax) X(ArgMin)

#define RT_ENUM_ITEM(name) name,
enum Unary { RT_UNARY_OPS(RT_ENUM_ITEM) kUnaryCount };
enum Binary { RT_BINARY_OPS(RT_ENUM_ITEM) kBinaryCount };
enum Reduce { RT_REDUCE_OPS(RT_ENUM_ITEM) kReduceCount };
#undef RT_ENUM_ITEM

/** Element types on the device: float32, and int32 (which also holds bool as 0/1). */
enum DType { F32 = 0, I32 = 1 };

}  // namespace ops
