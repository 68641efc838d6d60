import * as tf from '@tensorflow/tfjs-core';
import { activeCapabilities, BackendError, configureBackend, useBackend } from './index';

interface FakeOneDnn {
  capabilities: {
    setThreads: jest.Mock<void, [number]>;
    setConvLayout: jest.Mock<void, [string]>;
    fusedKernels: string[];
  };
}

// A backend package that describes itself: threads and two of the three layouts, fp32 only. It
// registers `onednn` (the cpu backend under that name), as the real package does on import.
// (jest.mock is hoisted above the imports: the factory must stand alone.)
jest.mock(
  '@resnet-ts/tfjs-backend-onednn',
  () => {
    const core: typeof import('@tensorflow/tfjs-core') = require('@tensorflow/tfjs-core');
    const cpu: typeof import('@tensorflow/tfjs-backend-cpu') = require('@tensorflow/tfjs-backend-cpu');
    core.registerBackend('onednn', () => new cpu.MathBackendCPU(), -1);
    let threads = 8;
    return {
      unavailableReason: () => undefined,
      capabilities: {
        name: 'onednn',
        setThreads: jest.fn((n: number) => {
          threads = n;
        }),
        getThreads: () => threads,
        convLayouts: ['plain', 'blocked'],
        setConvLayout: jest.fn(),
        precisions: ['fp32'],
        fusedKernels: ['ResNetFusedConv2D'],
      },
    };
  },
  { virtual: true },
);

const onednn = jest.requireMock<FakeOneDnn>('@resnet-ts/tfjs-backend-onednn');

beforeEach(() => {
  onednn.capabilities.setThreads.mockClear();
  onednn.capabilities.setConvLayout.mockClear();
});

describe('configureBackend', () => {
  it('finds the capabilities of a backend activated by hand, by the name it registers', async () => {
    await tf.setBackend('onednn');
    const capabilities = await activeCapabilities();
    expect(capabilities).toBe(onednn.capabilities);
    expect(capabilities.fusedKernels).toEqual(['ResNetFusedConv2D']);
  });

  it('sets threads and the layout through the capabilities, and leaves what is not asked for', async () => {
    await useBackend('onednn');
    await configureBackend({ threads: 3, convLayout: 'blocked', precision: 'fp32' });
    expect(onednn.capabilities.setThreads.mock.calls).toEqual([[3]]);
    expect(onednn.capabilities.setConvLayout.mock.calls).toEqual([['blocked']]);
    expect((await activeCapabilities()).getThreads?.()).toBe(3);
    await configureBackend({});
    expect(onednn.capabilities.setThreads).toHaveBeenCalledTimes(1);
  });

  it('checks every setting before setting any: a precision or layout it lacks is an error', async () => {
    await useBackend('onednn');
    const error = await configureBackend({ threads: 2, precision: 'bf16' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toBe(
      'precision: bf16 needs --backend cuda (backend onednn computes in fp32 only; choose --precision fp32 there)',
    );
    await expect(configureBackend({ threads: 2, convLayout: 'timed' })).rejects.toThrow(
      "convLayout: timed is not one of backend onednn's (plain, blocked)",
    );
    expect(onednn.capabilities.setThreads).not.toHaveBeenCalled();
    // Recorded rather than asked for: left as it is.
    await configureBackend({ threads: 2, convLayout: 'timed', precision: 'bf16' }, { fallback: true });
    expect(onednn.capabilities.setThreads.mock.calls).toEqual([[2]]);
    expect(onednn.capabilities.setConvLayout).not.toHaveBeenCalled();
  });

  it('a backend that does not describe itself: fp32, no settings, nothing to set', async () => {
    tf.registerBackend(
      'plain-test',
      () => new (require('@tensorflow/tfjs-backend-cpu').MathBackendCPU)(),
      -1,
    );
    await tf.setBackend('plain-test');
    expect(await configureBackend({ threads: 4, convLayout: 'timed', precision: 'fp32' })).toEqual({
      name: 'plain-test',
      precisions: ['fp32'],
      fusedKernels: [],
    });
    await expect(configureBackend({ precision: 'tf32' })).rejects.toThrow(
      /^precision: tf32 needs --backend cuda \(backend plain-test computes in fp32 only/,
    );
    await tf.setBackend('cpu');
    expect((await activeCapabilities()).getThreads?.()).toBe(1);
  });
});
