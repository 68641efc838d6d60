import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NoFastBackendError, useBackend } from '@resnet-ts/backends';
import * as tf from '@tensorflow/tfjs-core';
import { estimateCpuTraining, formatDuration, refuseCpuTraining } from './cpu-cost';
import { train } from './trainer';

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
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slow-backend-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('estimates what a cpu epoch would cost from a measured convolution rate', async () => {
    const data = path.join(dir, 'folder');
    for (const label of ['a', 'b'])
      for (let i = 0; i < 5; i++) {
        await mkdir(path.join(data, label), { recursive: true });
        await writeFile(path.join(data, label, `${i}.png`), '');
      }
    const cost = await estimateCpuTraining({ model: 'resnet20', data, valSplit: 0.2 });
    expect(cost).toMatchObject({ model: 'resnet20', imageSize: 32, imagesPerEpoch: 8 });
    expect(cost.secondsPerImage).toBeGreaterThan(0);
    expect(cost.secondsPerEpoch).toBeCloseTo(8 * cost.secondsPerImage, 10);
    const bigger = await estimateCpuTraining({ model: 'resnet56', data, valSplit: 0.2 });
    // Three times the blocks: about three times the work (the rate is measured afresh, so loosely).
    expect(bigger.secondsPerImage / cost.secondsPerImage).toBeGreaterThan(1.5);
    expect(formatDuration(40)).toBe('40 s');
    expect(formatDuration(3 * 3600)).toBe('3.0 h');
    expect(formatDuration(6 * 86_400)).toBe('6 days');
  });

  it('train() with backend auto on the cpu backend stops before reading data, with the cost of cpu; named cpu trains', async () => {
    // (useBackend's own refusal, and its notice for inference: tested in @resnet-ts/backends.)
    await useBackend('cpu');
    const missing = path.join(dir, 'no-such-data');
    await expect(
      train({ data: missing, model: 'resnet20', epochs: 1 }, { outDir: path.join(dir, 'run') }),
    ).rejects.toThrow(
      /^no fast backend loaded: backend onednn: .*\. The pure-JS cpu backend would take about .* per 1,000 images \(resnet20 at 32 px\); choose backend cpu \(--backend cpu\) to train on it anyway$/,
    );
    // Named, cpu is taken (and then the data is what fails).
    await expect(
      train(
        { data: missing, model: 'resnet20', epochs: 1, backend: 'cpu' },
        { outDir: path.join(dir, 'run2') },
      ),
    ).rejects.toThrow(/no-such-data: data does not exist/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an application that chose auto for training gets the same line from what useBackend threw', async () => {
    const thrown = await useBackend('auto', { allowSlowCpu: false }).catch((e: Error) => e);
    expect(thrown).toBeInstanceOf(NoFastBackendError);
    const config = { data: path.join(dir, 'no-such-data'), model: 'resnet20', valSplit: 0.1 };
    const refusal = await refuseCpuTraining(config, thrown as NoFastBackendError);
    expect(refusal.message).toMatch(
      /^no fast backend loaded: backend onednn: .*\. The pure-JS cpu backend would take about .* per 1,000 images \(resnet20 at 32 px\); choose backend cpu \(--backend cpu\) to train on it anyway$/,
    );
    // Probed (what train() does) rather than passed: the same what-is-missing.
    expect((await refuseCpuTraining(config)).message.split('. The pure-JS')[0]).toBe(
      refusal.message.split('. The pure-JS')[0],
    );
    // A fine-tuning run's model is not known before its pretrained model is read.
    expect((await refuseCpuTraining({ ...config, model: undefined })).message).toMatch(
      /would take far longer \(its cost could not be measured\); choose backend cpu/,
    );
  });
});
