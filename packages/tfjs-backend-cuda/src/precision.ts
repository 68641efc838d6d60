import { PRECISIONS, type Precision } from '@resnet-ts/backends';
import { loadAddon } from './native';

// The precision names are @resnet-ts/backends' (defined there once); these are the addon's codes.
export { PRECISIONS, type Precision };

const PRECISION_CODES: Readonly<Record<Precision, number>> = { fp32: 0, tf32: 1, bf16: 2 };
let precision: Precision = 'fp32';

/**
 * How matrix products and convolutions multiply: `fp32` (IEEE single precision, the default),
 * `tf32` (tensor cores with 10-bit mantissas, fp32 accumulation) or `bf16` (bf16 operands, fp32
 * accumulation and fp32 weights; through cuBLAS, and as tf32 in our own kernels). Everything else
 * (batch norm, the optimiser, the loss) stays fp32.
 */
export function setPrecision(value: Precision): void {
  if (!PRECISIONS.includes(value)) {
    throw new Error(`precision: expected one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  precision = value;
  loadAddon()?.precision(PRECISION_CODES[value]);
}

export function getPrecision(): Precision {
  return precision;
}

export type MatmulEngine = 'auto' | 'own' | 'cublas' | 'im2col';
/** In the order of native/gemm.hpp's Engine. */
const ENGINES: readonly MatmulEngine[] = ['auto', 'own', 'cublas', 'im2col'];

/**
 * Which code runs matrix products and convolutions:
 * - `auto` (default): cuBLAS when it loads (RESNET_CUDA_LIBRARY_PATH adds folders to look in), with
 *   convolutions as im2col columns times the filter; our own kernels when it does not;
 * - `own`: our kernels; convolutions as implicit GEMM (the columns are never written);
 * - `cublas`: cuBLAS, or an error when it did not load;
 * - `im2col`: im2col columns and our product kernels.
 * RESNET_CUDA_MATMUL_ENGINE sets the starting value (for benchmarks of whole programs).
 */
export function setMatmulEngine(value: MatmulEngine): void {
  if (!ENGINES.includes(value)) {
    throw new Error(`engine: expected one of ${ENGINES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  loadAddon()?.gemmEngine(ENGINES.indexOf(value));
}

const fromEnvironment = process.env.RESNET_CUDA_MATMUL_ENGINE;
if (fromEnvironment) {
  if (!ENGINES.includes(fromEnvironment as MatmulEngine)) {
    throw new Error(
      `RESNET_CUDA_MATMUL_ENGINE: expected one of ${ENGINES.join(', ')}, got ${JSON.stringify(fromEnvironment)}`,
    );
  }
  setMatmulEngine(fromEnvironment as MatmulEngine);
}

export function getMatmulEngine(): MatmulEngine | undefined {
  const code = loadAddon()?.gemmEngine();
  return code === undefined ? undefined : ENGINES[code];
}
