import * as tf from '@tensorflow/tfjs-core';
import { type BackendChoice, useBackend } from './backend';

describe('useBackend', () => {
  it('activates the cpu backend by name', async () => {
    expect(await useBackend('cpu')).toEqual({ backend: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('names the choices when given an unknown backend', async () => {
    await expect(useBackend('tpu' as BackendChoice)).rejects.toThrow(
      /^backend tpu: unknown; expected one of auto, cpu, tensorflow-gpu, tensorflow, onednn, wasm$/,
    );
  });
});
