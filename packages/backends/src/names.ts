/**
 * The backends a run or command can name (`--backend`): `auto` takes the fastest that loads. Defined
 * here only; `@resnet-ts/train`'s config and the apps' flags take them from here.
 */
export const BACKENDS = ['auto', 'cuda', 'onednn', 'tensorflow', 'tensorflow-gpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];
/** A backend by name: every choice but `auto`. */
export type NamedBackend = Exclude<BackendChoice, 'auto'>;

/**
 * Arithmetic of matrix products and convolutions: `fp32` (full single precision, what every backend
 * computes in), `tf32` (fp32 storage, 10-bit-mantissa products on tensor cores) or `bf16`. Which a
 * backend offers is its `capabilities.precisions` (the `cuda` backend: all three).
 */
export const PRECISIONS = ['fp32', 'tf32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/**
 * How convolutions choose their memory layouts, where a backend has the choice (`onednn`): fixed
 * `plain` or `blocked` compute the same bits in every process; `timed` picks the faster per shape,
 * which a busy machine can make pick differently from one process to the next.
 */
export const CONV_LAYOUTS = ['plain', 'blocked', 'timed'] as const;
export type ConvLayout = (typeof CONV_LAYOUTS)[number];
