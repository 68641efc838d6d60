import * as tf from '@tensorflow/tfjs-core';
import { applyPrecision, configureBackend, type Precision, useBackend } from './index';

interface FakeCuda {
  unavailableReason: jest.Mock<string | undefined, []>;
  capabilities: { setPrecision: jest.Mock<void, [Precision]> };
}

// A stand-in for @resnet-ts/tfjs-backend-cuda that loads: like the real one it registers a `cuda`
// backend on import (here the CPU backend under that name) and describes itself; whether it can run
// is up to each test. (jest.mock is hoisted above the imports: the factory must stand alone.)
jest.mock(
  '@resnet-ts/tfjs-backend-cuda',
  () => {
    const core: typeof import('@tensorflow/tfjs-core') = require('@tensorflow/tfjs-core');
    const cpu: typeof import('@tensorflow/tfjs-backend-cpu') = require('@tensorflow/tfjs-backend-cpu');
    core.registerBackend('cuda', () => new cpu.MathBackendCPU(), -1);
    let current = 'fp32';
    return {
      unavailableReason: jest.fn(() => undefined),
      capabilities: {
        name: 'cuda',
        precisions: ['fp32', 'tf32', 'bf16'],
        setPrecision: jest.fn((precision: string) => {
          current = precision;
        }),
        getPrecision: () => current,
        fusedKernels: [],
      },
    };
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

const cuda = jest.requireMock<FakeCuda>('@resnet-ts/tfjs-backend-cuda');
const NO_DRIVER = 'no NVIDIA driver (libcuda.so.1 not found): install the driver, then check nvidia-smi';

beforeEach(() => {
  cuda.unavailableReason.mockReset().mockReturnValue(undefined);
  cuda.capabilities.setPrecision.mockClear();
});

describe('the cuda backend', () => {
  it('by name, when it cannot run here: the error is its reason', async () => {
    cuda.unavailableReason.mockReturnValue(NO_DRIVER);
    await expect(useBackend('cuda')).rejects.toThrow(`backend cuda: ${NO_DRIVER}`);
  });

  it('auto skips it with its reason when it cannot run, and takes it first when it can', async () => {
    cuda.unavailableReason.mockReturnValue(NO_DRIVER);
    const fallback = await useBackend('auto');
    expect(fallback.backend).not.toBe('cuda');
    expect(fallback.skipped[0]).toBe(`backend cuda: ${NO_DRIVER}`);

    cuda.unavailableReason.mockReturnValue(undefined);
    expect(await useBackend('auto')).toEqual({ backend: 'cuda', skipped: [] });
    expect(tf.getBackend()).toBe('cuda');
  });

  it('precision goes to the backend through its capabilities, fp32 included (the setting outlives a run)', async () => {
    await useBackend('cuda');
    await configureBackend({ precision: 'tf32' });
    await applyPrecision('bf16');
    await configureBackend({ precision: 'fp32', threads: 4, convLayout: 'timed' });
    expect(cuda.capabilities.setPrecision.mock.calls).toEqual([['tf32'], ['bf16'], ['fp32']]);
  });

  it('on another backend, precision fp32 only: tf32 or bf16 asked for is an error naming --backend cuda', async () => {
    await useBackend('cpu');
    await configureBackend({ precision: 'fp32' });
    await expect(configureBackend({ precision: 'tf32' })).rejects.toThrow(
      /^precision: tf32 needs --backend cuda \(backend cpu computes in fp32 only; choose --precision fp32 there\)$/,
    );
    // A precision only recorded by a run (eval, predict) leaves fp32 there.
    await configureBackend({ precision: 'bf16' }, { fallback: true });
    expect(cuda.capabilities.setPrecision).not.toHaveBeenCalled();
  });
});
