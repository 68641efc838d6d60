import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackendCapabilities } from '@resnet-ts/backends';
import * as backends from '@resnet-ts/backends';
import { capabilities as onednnCapabilities } from '@resnet-ts/tfjs-backend-onednn';
import * as tf from '@tensorflow/tfjs-core';
import * as train from './index';
import { writeFolderDataset } from './testing/fixtures';
import type { TrainEvent } from './trainer';

// Selection and set-up policy are @resnet-ts/backends' (tested there): here, that train only uses it.

/** The cpu backend's kernels under another name: a backend train has never heard of. */
function registerPlainBackend(name: string): void {
  if (tf.findBackendFactory(name)) return;
  const { MathBackendCPU } =
    require('@tensorflow/tfjs-backend-cpu') as typeof import('@tensorflow/tfjs-backend-cpu');
  // (firstUse: no "install tfjs-node" banner.)
  tf.registerBackend(name, () => Object.assign(new MathBackendCPU(), { firstUse: false }), -1);
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: name });
}

let data: string;
let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'train-backend-'));
  data = path.join(root, 'data');
  await writeFolderDataset(data, { classes: 2, perClass: 4, size: 8 });
  registerPlainBackend('plain-test');
});

describe("train's backend exports", () => {
  it('are @resnet-ts/backends’ own (re-exported, not defined again)', () => {
    expect([
      train.useBackend,
      train.probeBackends,
      train.loadOptional,
      train.slowBackendNotice,
      train.applyPrecision,
      train.BackendError,
      train.NoFastBackendError,
      train.BACKENDS,
      train.PRECISIONS,
      train.CONV_LAYOUTS,
    ]).toEqual([
      backends.useBackend,
      backends.probeBackends,
      backends.loadOptional,
      backends.slowBackendNotice,
      backends.applyPrecision,
      backends.BackendError,
      backends.NoFastBackendError,
      backends.BACKENDS,
      backends.PRECISIONS,
      backends.CONV_LAYOUTS,
    ]);
    expect(train.useBackend).toBe(backends.useBackend);
  });

  it("the onednn package's capabilities are what @resnet-ts/backends reads", () => {
    const described: BackendCapabilities = onednnCapabilities; // (checked by the compiler)
    expect(described.name).toBe('onednn');
    expect(described.convLayouts).toEqual(expect.arrayContaining([...train.CONV_LAYOUTS]));
    expect(described.precisions).toEqual(['fp32']);
  });
});

describe('train() and the backend', () => {
  const run = (config: Partial<train.TrainConfigInput>, outDir: string, events: TrainEvent[] = []) =>
    train.train(
      { data, model: 'resnet8', epochs: 1, batchSize: 4, valSplit: 0.25, workers: 0, ...config },
      { outDir: path.join(root, outDir), onEvent: (event) => events.push(event) },
    );

  it('runs on the active backend, whatever it is, and does not change it', async () => {
    await tf.setBackend('plain-test');
    const events: TrainEvent[] = [];
    await run({}, 'plain', events);
    expect(tf.getBackend()).toBe('plain-test');
    expect(events.find((e) => e.type === 'start')).toMatchObject({
      backend: 'plain-test',
      skippedBackends: [],
    });
    expect(JSON.parse(await readFile(path.join(root, 'plain', 'config.json'), 'utf8')).backend).toBe('auto');
  });

  it('a run that names a backend must run on it: the error says to activate it, and nothing changes', async () => {
    await tf.setBackend('plain-test');
    await expect(run({ backend: 'onednn' }, 'named')).rejects.toThrow(
      "backend: the run names onednn, but the active TensorFlow.js backend is plain-test; activate it before training (useBackend('onednn') from @resnet-ts/backends; resnet train does for --backend)",
    );
    expect(tf.getBackend()).toBe('plain-test');
  });

  it('refuses the pure-JS cpu backend unless the run names it: what is missing, the fix, the cost', async () => {
    await backends.useBackend('cpu');
    await expect(run({}, 'silent-cpu')).rejects.toThrow(
      /^(no fast backend loaded: .*|the active TensorFlow.js backend is the pure-JS cpu one, though \w+ loads here: activate it before training .*)\. The pure-JS cpu backend would take about .* per epoch of 6 images \(resnet8 at 32 px\); choose backend cpu \(--backend cpu\) to train on it anyway$/,
    );
    expect(tf.getBackend()).toBe('cpu');
    await expect(run({ backend: 'cpu', data: path.join(root, 'none') }, 'named-cpu')).rejects.toThrow(
      /none: data does not exist/,
    );
  });

  it("applies the run's precision through the backend's capabilities: one it lacks is refused up front", async () => {
    await tf.setBackend('plain-test');
    await expect(run({ precision: 'tf32' }, 'tf32')).rejects.toThrow(
      /^precision: tf32 needs --backend cuda \(backend plain-test computes in fp32 only; choose --precision fp32 there\)$/,
    );
  });
});
