import * as tf from '@tensorflow/tfjs-core';
import { NoFastBackendError, probeFastBackend, slowBackendNotice, useBackend } from './index';

// A machine where no fast backend loads: the oneDNN addon unbuilt, no GPU, no libtensorflow.
// (jest.mock is hoisted above the imports: each factory must stand alone.)
jest.mock(
  '@resnet-ts/tfjs-backend-onednn',
  () => ({
    unavailableReason: () =>
      'onednn backend unavailable: the native addon was not built. Install oneDNN (Debian/Ubuntu: `apt-get install libdnnl-dev`) and rebuild the addon with `npm rebuild @resnet-ts/tfjs-backend-onednn`.',
  }),
  { virtual: true },
);
jest.mock(
  '@resnet-ts/tfjs-backend-cuda',
  () => ({ unavailableReason: () => 'no usable CUDA GPU: cudaErrorNoDevice' }),
  { virtual: true },
);
for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'])
  jest.mock(
    name,
    () => {
      throw new Error('Cannot find module');
    },
    { virtual: true },
  );

describe('when no fast backend loads', () => {
  it("never prints tfjs's advice to install tfjs-node (the wrong fix here)", async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await useBackend('cpu');
      tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
      expect(warn.mock.calls.flat().join('\n')).not.toMatch(/tfjs-node/);
    } finally {
      warn.mockRestore();
    }
  });

  it('auto takes the pure-JS cpu backend for inference, and the notice says what would be fast', async () => {
    const { backend, skipped } = await useBackend('auto');
    expect(backend).toBe('cpu');
    const notice = slowBackendNotice(backend, skipped) as string;
    expect(notice).toMatch(
      /^no fast backend loaded, running on the slow pure-JS cpu backend: backend onednn: /,
    );
    expect(notice).toContain('apt-get install libdnnl-dev');
    // No GPU is nothing to fix; libtensorflow is not the fix.
    expect(notice).not.toMatch(/cuda|tensorflow/);
    expect(notice).not.toMatch(/\.$/);
    expect(slowBackendNotice('onednn', skipped)).toBeUndefined();
  });

  it('auto for training refuses the cpu backend, naming what is missing; probing says the same', async () => {
    const error = await useBackend('auto', { allowSlowCpu: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(NoFastBackendError);
    expect((error as NoFastBackendError).skipped).toHaveLength(4);
    expect((error as Error).message).toMatch(/^no fast backend loaded: backend onednn: .*npm rebuild/);
    const probed = await probeFastBackend();
    expect(probed).toBeInstanceOf(NoFastBackendError);
    expect((probed as NoFastBackendError).message).toBe((error as Error).message);
    expect((probed as NoFastBackendError).skipped).toEqual((error as NoFastBackendError).skipped);
  });
});
