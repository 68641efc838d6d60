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
  it('at small shapes, fp32', async () => {
    const results = await selfTest({ scale: 'small', precision: 'fp32' });
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
    `at ResNet and AlexNet shapes on the GPU, fp32${reason ? ` (skipped: ${reason})` : ''}`,
    async () => {
      expect(failures(await selfTest({ scale: 'full', precision: 'fp32' }))).toEqual([]);
    },
    600_000,
  );
  gpuIt(
    `at ResNet shapes on the GPU, tf32${reason ? ` (skipped: ${reason})` : ''}`,
    async () => {
      expect(failures(await selfTest({ scale: 'full', precision: 'tf32' }))).toEqual([]);
    },
    600_000,
  );
});
