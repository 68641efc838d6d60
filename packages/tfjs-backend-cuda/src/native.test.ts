import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BACKEND_NAME,
  cpuFallbackCounts,
  cpuFallbackKernels,
  deviceInfo,
  getMatmulEngine,
  getPrecision,
  isCudaAvailable,
  NATIVE_KERNELS,
  setFallbackWarning,
  setMatmulEngine,
  setPrecision,
} from './index';
import { requireAddon } from './native';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from './ops';
import { onGpu } from './testing';

describe('the addon', () => {
  it('lists the op codes the TypeScript side uses, in the same order', () => {
    const names = requireAddon().opNames();
    expect(names.unary).toEqual([...UNARY_OPS]);
    expect(names.binary).toEqual([...BINARY_OPS]);
    expect(names.reduce).toEqual([...REDUCE_OPS]);
  });

  it('describes the device it runs on', () => {
    expect(isCudaAvailable()).toBe(true);
    const info = deviceInfo()!;
    expect(info.emulated).toBe(!onGpu());
    expect(typeof info.cublas).toBe('string');
  });

  const built = existsSync(join(__dirname, '..', 'build', 'Release', 'tfjs_cuda.node'));
  if (process.env.CI === 'true' && !built)
    throw new Error('CI: the CUDA addon must be built (nvcc at /usr/local/cuda)');
  (built && !onGpu() ? it : it.skip)('the GPU build loads without a GPU and says why it cannot run', () => {
    jest.isolateModules(() => {
      const saved = process.env.RESNET_CUDA_EMULATE;
      delete process.env.RESNET_CUDA_EMULATE;
      try {
        const native = require('./native') as typeof import('./native');
        expect(native.loadAddon()).toBeUndefined();
        expect(native.unavailableReason()).toMatch(
          /^no usable CUDA GPU: cudaGetDeviceCount: \w+ .*npm rebuild/,
        );
        expect(() => native.requireAddon()).toThrow(/cuda backend unavailable: no usable CUDA GPU/);
      } finally {
        process.env.RESNET_CUDA_EMULATE = saved;
      }
    });
  });

  it('names a missing addon and the fix', () => {
    jest.isolateModules(() => {
      process.env.RESNET_CUDA_ADDON = '/nonexistent/tfjs_cuda.node';
      try {
        const native = require('./native') as typeof import('./native');
        expect(native.unavailableReason()).toMatch(
          /^RESNET_CUDA_ADDON names \/nonexistent\/tfjs_cuda\.node, which does not exist\. .*CUDA toolkit/,
        );
      } finally {
        delete process.env.RESNET_CUDA_ADDON;
      }
    });
  });
});

describe('registration', () => {
  it('registers the backend with a CUDA kernel or a CPU fallback for every CPU kernel', () => {
    expect(tf.findBackendFactory(BACKEND_NAME)).toBeDefined();
    const cuda = new Set(tf.getKernelsForBackend(BACKEND_NAME).map((k) => k.kernelName));
    for (const kernel of tf.getKernelsForBackend('cpu')) expect(cuda.has(kernel.kernelName)).toBe(true);
    for (const kernel of NATIVE_KERNELS) expect(tf.getKernel(kernel.kernelName, BACKEND_NAME)).toBe(kernel);
  });

  it('validates precision and engine choices', () => {
    expect(getPrecision()).toBe('fp32');
    expect(() => setPrecision('fp16' as never)).toThrow(
      'precision: expected one of fp32, tf32, bf16, got "fp16"',
    );
    setPrecision('tf32');
    expect(getPrecision()).toBe('tf32');
    setPrecision('fp32');
    expect(() => setMatmulEngine('magma' as never)).toThrow(/engine: expected one of auto, own, cublas/);
    setMatmulEngine('own');
    expect(getMatmulEngine()).toBe('own');
    setMatmulEngine('auto');
  });
});

describe('kernels the backend lacks', () => {
  it('run on the CPU, are named once in a warning and listed by cpuFallbackKernels()', async () => {
    const warnings: string[] = [];
    setFallbackWarning((message) => warnings.push(message));
    await tf.setBackend(BACKEND_NAME);
    const x = tf.tensor1d([3, 1, 4, 1, 5, 9, 2, 6]);
    for (let i = 0; i < 2; i++) {
      const { values, indices } = tf.topk(x, 3);
      expect(Array.from(values.dataSync())).toEqual([9, 6, 5]);
      expect(Array.from(indices.dataSync())).toEqual([5, 7, 4]);
      tf.dispose([values, indices]);
    }
    // A case a CUDA kernel hands over: NCHW convolutions.
    const img = tf.ones([1, 2, 3, 3]) as tf.Tensor4D;
    const conv = tf.conv2d(img, tf.ones([1, 1, 2, 1]) as tf.Tensor4D, 1, 'valid', 'NCHW');
    expect(Array.from(conv.dataSync())).toEqual(new Array(9).fill(2));
    expect(cpuFallbackKernels()).toEqual(expect.arrayContaining(['TopK', 'Conv2D (NCHW, float32)']));
    expect(cpuFallbackCounts().TopK).toBe(2);
    expect(warnings.filter((w) => w.includes('TopK'))).toHaveLength(1);
    expect(warnings[0]).toMatch(/^cuda: TopK has no CUDA kernel here and runs on the CPU/);
    tf.dispose([x, img, conv]);
    setFallbackWarning(undefined);
  });

  it('leave no tensors behind on either backend', async () => {
    await tf.setBackend(BACKEND_NAME);
    const before = tf.memory().numTensors;
    const backendIds = tf.backend().numDataIds();
    tf.tidy(() => tf.topk(tf.tensor1d([1, 2, 3]), 2).values.dataSync());
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(backendIds);
  });
});

describe('tensor storage', () => {
  it('reads back float32, int32 and bool values written and computed on the device', async () => {
    await tf.setBackend(BACKEND_NAME);
    const a = tf.tensor1d([1.5, -2, 3]);
    const b = tf.tensor1d([1, 2, 3], 'int32');
    const c = tf.greater(a, tf.scalar(0));
    expect(c.dtype).toBe('bool');
    expect(Array.from(await c.data())).toEqual([1, 0, 1]);
    expect(c.dataSync()).toBeInstanceOf(Uint8Array);
    const d = tf.add(b, b);
    expect(Array.from(d.dataSync())).toEqual([2, 4, 6]);
    expect(d.dataSync()).toBeInstanceOf(Int32Array);
    expect(Array.from(tf.cast(c, 'float32').dataSync())).toEqual([1, 0, 1]);
    const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; unreliable: boolean };
    expect(memory.unreliable).toBe(false);
    expect(memory.numBytesInGPU).toBeGreaterThan(0);
    tf.dispose([a, b, c, d]);
  });

  it('keeps strings on the host and reshapes without copies', async () => {
    await tf.setBackend(BACKEND_NAME);
    const s = tf.tensor1d(['a', 'bc']);
    expect(await s.array()).toEqual(['a', 'bc']);
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const y = tf.reshape(tf.add(x, 1), [4]);
    expect(Array.from(y.dataSync())).toEqual([2, 3, 4, 5]);
    tf.dispose([s, x, y]);
  });
});
