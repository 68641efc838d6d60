import { configureBackend, useBackend } from '@resnet-ts/backends';
import { describeMachine } from './benchmark';

// A stand-in for @resnet-ts/tfjs-backend-cuda that loads: like the real one it registers a `cuda`
// backend on import (here the CPU backend under that name) and describes itself (`capabilities`).
// The selection and precision policy are tested in @resnet-ts/backends; here, what train reads.
// (jest.mock is hoisted above the imports: the factory must stand alone.)
jest.mock(
  '@resnet-ts/tfjs-backend-cuda',
  () => {
    const core: typeof import('@tensorflow/tfjs-core') = require('@tensorflow/tfjs-core');
    const cpu: typeof import('@tensorflow/tfjs-backend-cpu') = require('@tensorflow/tfjs-backend-cpu');
    core.registerBackend('cuda', () => new cpu.MathBackendCPU(), -1);
    let current = 'fp32';
    return {
      unavailableReason: () => undefined,
      capabilities: {
        name: 'cuda',
        precisions: ['fp32', 'tf32', 'bf16'],
        setPrecision: (precision: string) => {
          current = precision;
        },
        getPrecision: () => current,
        fusedKernels: [],
        device: () => ({
          name: 'NVIDIA H200',
          computeCapability: '9.0',
          memoryBytes: 150_000_000_000,
          driverVersion: '580.0',
          runtimeVersion: '13.0',
        }),
      },
    };
  },
  { virtual: true },
);

describe('the cuda backend', () => {
  it('a benchmark record names the GPU and the precision, from the backend’s capabilities', async () => {
    await useBackend('cuda');
    await configureBackend({ precision: 'tf32' });
    expect(await describeMachine()).toMatchObject({
      backend: 'cuda',
      gpu: 'NVIDIA H200',
      compute_capability: '9.0',
      gpu_memory_gib: 140,
      cuda_driver: '580.0',
      cuda_runtime: '13.0',
      precision: 'tf32',
    });
    await useBackend('cpu');
    const machine = await describeMachine();
    expect(machine).toMatchObject({ backend: 'cpu', threads: 1 });
    expect(machine).not.toHaveProperty('gpu');
    expect(machine).not.toHaveProperty('precision');
  });
});
