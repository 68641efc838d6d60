import * as tf from '@tensorflow/tfjs-core';
import { type BackendChoice, useBackend } from './backend';

// The optional CUDA backend and TensorFlow bindings as on a machine without them (whatever this one
// has), and a plugin that loads but reports it cannot run here. (backend-cuda.test.ts: one that loads.)
// (jest.mock is hoisted above the imports: each factory must stand alone.)
jest.mock(
  '@resnet-ts/tfjs-backend-cuda',
  () => {
    throw new Error("Cannot find module '@resnet-ts/tfjs-backend-cuda'");
  },
  { virtual: true },
);
jest.mock(
  '@tensorflow/tfjs-node',
  () => {
    throw new Error("Cannot find module '@tensorflow/tfjs-node'");
  },
  { virtual: true },
);
jest.mock(
  '@tensorflow/tfjs-node-gpu',
  () => {
    throw new Error("Cannot find module '@tensorflow/tfjs-node-gpu'");
  },
  { virtual: true },
);
jest.mock('@tensorflow/tfjs-backend-wasm', () => ({ unavailableReason: () => 'no WebAssembly SIMD here' }), {
  virtual: true,
});

describe('useBackend', () => {
  it('activates the cpu backend by name', async () => {
    expect(await useBackend('cpu')).toEqual({ backend: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('names the choices when given an unknown backend', async () => {
    await expect(useBackend('tpu' as BackendChoice)).rejects.toThrow(
      /^backend tpu: unknown; expected one of auto, cpu, cuda, tensorflow-gpu, tensorflow, onednn, wasm$/,
    );
  });

  it('a CUDA backend that is not installed: the error says how to build it and what it needs', async () => {
    await expect(useBackend('cuda')).rejects.toThrow(
      "backend cuda: @resnet-ts/tfjs-backend-cuda is not installed; building it needs the CUDA toolkit's nvcc (CUDA_HOME or /usr/local/cuda), then npm rebuild @resnet-ts/tfjs-backend-cuda; running it needs an NVIDIA driver and GPU",
    );
  });

  it('a TensorFlow binding that is not installed: the error says how to install it', async () => {
    await expect(useBackend('tensorflow')).rejects.toThrow(
      'backend tensorflow: @tensorflow/tfjs-node is not installed; npm install @tensorflow/tfjs-node (downloads libtensorflow at install time)',
    );
    await expect(useBackend('tensorflow-gpu')).rejects.toThrow(
      /^backend tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed; npm install @tensorflow\/tfjs-node-gpu \(needs CUDA/,
    );
    await expect(useBackend('wasm')).rejects.toThrow('backend wasm: no WebAssembly SIMD here');
  });

  it('auto skips what does not load, says why, and takes the fastest that does', async () => {
    const { backend, skipped } = await useBackend('auto');
    expect(['onednn', 'cpu']).toContain(backend);
    expect(skipped.slice(0, 2)).toEqual([
      expect.stringMatching(
        /^backend cuda: @resnet-ts\/tfjs-backend-cuda is not installed; building it needs/,
      ),
      expect.stringMatching(/^backend tensorflow-gpu: .* is not installed/),
    ]);
    if (backend === 'cpu') expect(skipped).toContainEqual(expect.stringMatching(/^backend tensorflow: /));
    expect(tf.getBackend()).toBe(backend);
  });
});
