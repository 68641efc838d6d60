import * as tf from '@tensorflow/tfjs-core';
import {
  AUTO_ORDER,
  BACKEND_PLUGINS,
  BACKENDS,
  type BackendChoice,
  backendName,
  probeBackends,
  probeFastBackend,
  useBackend,
} from './index';

// The CUDA backend and the TensorFlow bindings as on a machine without them, a wasm plugin that loads
// but cannot run here, and a oneDNN stand-in that loads (the cpu backend under its name), so that the
// order `auto` tries them in shows whatever this machine has built.
// (jest.mock is hoisted above the imports: each factory must stand alone.)
for (const name of ['@resnet-ts/tfjs-backend-cuda', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'])
  jest.mock(
    name,
    () => {
      throw new Error('Cannot find module');
    },
    { virtual: true },
  );
jest.mock('@tensorflow/tfjs-backend-wasm', () => ({ unavailableReason: () => 'no WebAssembly SIMD here' }), {
  virtual: true,
});
jest.mock(
  '@resnet-ts/tfjs-backend-onednn',
  () => {
    const core: typeof import('@tensorflow/tfjs-core') = require('@tensorflow/tfjs-core');
    const cpu: typeof import('@tensorflow/tfjs-backend-cpu') = require('@tensorflow/tfjs-backend-cpu');
    core.registerBackend('onednn', () => new cpu.MathBackendCPU(), -1);
    return { unavailableReason: () => undefined };
  },
  { virtual: true },
);

describe('the plugin table', () => {
  it('names every backend once: each choice but auto and cpu has a plugin; auto tries the trainers fastest first', () => {
    expect(BACKENDS).toEqual(['auto', 'cuda', 'onednn', 'tensorflow', 'tensorflow-gpu', 'wasm', 'cpu']);
    expect(Object.keys(BACKEND_PLUGINS).sort()).toEqual(
      BACKENDS.filter((b) => b !== 'auto' && b !== 'cpu').sort(),
    );
    expect(AUTO_ORDER).toEqual(['cuda', 'tensorflow-gpu', 'onednn', 'tensorflow', 'cpu']);
    expect(backendName('tensorflow-gpu')).toBe('tensorflow');
    expect(backendName('onednn')).toBe('onednn');
    expect(backendName('cpu')).toBe('cpu');
  });
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
    await useBackend('cpu');
    const { backend, skipped } = await useBackend('auto', { allowSlowCpu: false });
    expect(backend).toBe('onednn');
    expect(skipped).toEqual([
      expect.stringMatching(
        /^backend cuda: @resnet-ts\/tfjs-backend-cuda is not installed; building it needs/,
      ),
      expect.stringMatching(/^backend tensorflow-gpu: .* is not installed/),
    ]);
    expect(tf.getBackend()).toBe('onednn');
  });
});

describe('probeBackends', () => {
  it('says of every backend whether it loads and why not, fastest first, and activates none', async () => {
    await useBackend('cpu');
    const statuses = await probeBackends();
    expect(statuses.map((s) => [s.name, s.available, s.trains])).toEqual([
      ['cuda', false, true],
      ['tensorflow-gpu', false, true],
      ['onednn', true, true],
      ['tensorflow', false, true],
      ['wasm', false, false],
      ['cpu', true, false],
    ]);
    expect(statuses[0]?.reason).toMatch(/^@resnet-ts\/tfjs-backend-cuda is not installed; building it/);
    expect(statuses[4]?.reason).toBe('no WebAssembly SIMD here');
    expect(await probeFastBackend()).toBe('onednn');
    expect(tf.getBackend()).toBe('cpu');
  });
});
