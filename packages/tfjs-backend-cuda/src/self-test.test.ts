import * as tf from '@tensorflow/tfjs-core';
import { selfTest, setFallbackWarning } from './index';
import { gpuSkipReason, onGpu } from './testing';

setFallbackWarning(undefined);

function failures(results: Awaited<ReturnType<typeof selfTest>>): string[] {
  return results
    .filter((r) => !r.passed)
    .map(
      (r) =>
        `${r.kernel} ${r.case}: rel ${r.maxRelError} abs ${r.maxAbsError} (tol ${r.tolerance}) ${r.error ?? ''}`,
    );
}

describe('every kernel agrees with the tfjs CPU backend, forward and gradients', () => {
  it('at small shapes, fp32, convolutions as implicit GEMM and as im2col', async () => {
    const results = await selfTest({
      scale: 'small',
      configs: [
        { precision: 'fp32', engine: 'own' },
        { precision: 'fp32', engine: 'im2col' },
      ],
    });
    expect(results.length).toBeGreaterThan(60);
    expect(failures(results)).toEqual([]);
    expect(tf.getBackend()).toBe('cpu');
  }, 300_000);

  const reason = gpuSkipReason();
  if (reason && process.env.REQUIRE_GPU === '1') {
    it('needs a GPU (REQUIRE_GPU=1)', () => {
      throw new Error(`REQUIRE_GPU=1 but ${reason}`);
    });
  }
  const gpuIt = onGpu() ? it : it.skip;
  gpuIt(
    `at ResNet and AlexNet shapes on the GPU: fp32, tf32, bf16; cuBLAS and our kernels${reason ? ` (skipped: ${reason})` : ''}`,
    async () => {
      const configs = [
        { precision: 'fp32', engine: 'own' },
        { precision: 'fp32', engine: 'auto' },
        { precision: 'tf32', engine: 'own' },
        { precision: 'tf32', engine: 'auto' },
        { precision: 'bf16', engine: 'auto' },
      ] as const;
      expect(failures(await selfTest({ scale: 'full', configs: [...configs] }))).toEqual([]);
    },
    600_000,
  );
});
