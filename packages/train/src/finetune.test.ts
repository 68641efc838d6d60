import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildResNet, type ResNetConfig } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainConfigInput } from './config';
import { exportModel, loadModel } from './export';
import { sha256 } from './model-io';
import { buildModel } from './models';
import { applyPretrained, inferArchitecture, loadPretrained } from './pretrained';
import { testBackend } from './testing/backend';
import { writeFolderDataset } from './testing/fixtures';
import { runFiles, type TrainEvent, train } from './trainer';

let backend: string;
let root: string;
/** The pretraining task (classes a, b, c) and a related one (d, e, f: same colours, other stripes). */
let baseData: string;
let targetData: string;
/** A run pretrained on `baseData`; its final model is `base/model` (written by exportModel). */
let base: string;

const common = (): Partial<TrainConfigInput> => ({
  batchSize: 8,
  schedule: 'constant',
  workers: 0,
  backend: backend as 'cpu',
  cacheDir: path.join(root, 'cache'),
  logEvery: 1000,
  reportImages: 0,
});

/** A fine-tuning run's config on the related task (small, so that pretraining matters). */
const fineTune = (extra: Partial<TrainConfigInput> = {}): TrainConfigInput =>
  ({
    ...common(),
    data: targetData,
    pretrained: base,
    epochs: 2,
    lr: 0.02,
    valSplit: 0.5,
    augment: 'none',
    seed: 0,
    ...extra,
  }) as TrainConfigInput;

async function namedWeights(dir: string): Promise<Map<string, number[]>> {
  const bundle = await loadModel(dir);
  const weights = new Map(bundle.model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
  bundle.model.dispose();
  return weights;
}

/** The head a model built for `classes` with `seed` starts with. */
function freshHead(classes: number, seed: number): Map<string, number[]> {
  const model = buildModel({ model: 'resnet8', numClasses: classes, inputSize: [16, 16], seed });
  const head = new Map(
    model.weights
      .filter((w) => w.originalName.startsWith('predictions/'))
      .map((w) => [w.originalName, Array.from(w.read().dataSync())]),
  );
  model.dispose();
  return head;
}

beforeAll(async () => {
  backend = await testBackend();
  root = await mkdtemp(path.join(os.tmpdir(), 'finetune-'));
  baseData = path.join(root, 'base-data');
  targetData = path.join(root, 'target-data');
  await writeFolderDataset(baseData, { classes: 3, perClass: 30, size: 16, seed: 7 });
  await writeFolderDataset(targetData, { classes: 3, perClass: 16, size: 16, seed: 21, firstClass: 3 });
  base = path.join(root, 'base');
  const pretrained = await train(
    {
      ...common(),
      data: baseData,
      model: 'resnet8',
      epochs: 3,
      lr: 0.05,
      valSplit: 0.2,
      seed: 3,
    } as TrainConfigInput,
    { outDir: base },
  );
  expect(pretrained.history.at(-1)?.val?.top1).toBeGreaterThan(0.9);
});

describe('starting from pretrained weights', () => {
  it('takes every weight but the head exactly; the head is new and seeded, also for as many classes', async () => {
    const pretrained = await loadPretrained(path.join(base, 'model'));
    expect(pretrained).toMatchObject({
      model: 'resnet8',
      architectureFrom: 'config',
      labels: ['class-a', 'class-b', 'class-c'],
    });
    expect(pretrained.sha256).toBe(sha256(readFileSync(path.join(base, 'model', 'weights.bin'))));
    for (const classes of [5, 3]) {
      const model = buildModel({ model: 'resnet8', numClasses: classes, inputSize: [16, 16], seed: 9 });
      applyPretrained(model, pretrained);
      const head = freshHead(classes, 9);
      for (const variable of model.weights) {
        const name = variable.originalName;
        const values = Array.from(variable.read().dataSync());
        if (name.startsWith('predictions/')) {
          expect(values).toEqual(head.get(name));
          expect(values).not.toEqual(Array.from(pretrained.weights.get(name)?.values ?? []));
        } else {
          expect(values).toEqual(Array.from(pretrained.weights.get(name)?.values ?? []));
        }
      }
      expect(model.getLayer('predictions').getWeights()[0]?.shape).toEqual([64, classes]);
      model.dispose();
    }
  });

  it('finds the architecture in the layers when config.json does not name it, and refuses weights that do not fit', async () => {
    const bare = path.join(root, 'bare-model');
    await cp(path.join(base, 'model'), bare, { recursive: true });
    await rm(path.join(bare, 'config.json'));
    const pretrained = await loadPretrained(bare);
    expect(pretrained).toMatchObject({ model: 'resnet8', modelOptions: {}, architectureFrom: 'topology' });
    const other = buildModel({
      model: 'resnet8',
      numClasses: 3,
      inputSize: [16, 16],
      seed: 0,
      options: { shortcut: 'B' },
    });
    expect(() => applyPretrained(other, { ...pretrained, modelOptions: { shortcut: 'B' } })).toThrow(
      /^pretrained: .*bare-model: its weights do not fit resnet8 \{"shortcut":"B"\} \(it has no conv3_block1_0_conv\/kernel; .*check model and modelOptions$/,
    );
    other.dispose();
  });

  it.each<[string, ResNetConfig, string, Record<string, unknown>]>([
    ['a CIFAR ResNet', { depth: 20 }, 'resnet20', {}],
    [
      'option-B shortcuts, v2, twice as wide',
      { depth: 8, shortcut: 'B', preactivation: true, width: 2 },
      'resnet8',
      { shortcut: 'B', preactivation: true, width: 2 },
    ],
    [
      'a CIFAR bottleneck ResNet, Keras stride',
      { depth: 11, block: 'bottleneck', strideOn: '1x1' },
      'resnet11',
      { block: 'bottleneck', strideOn: '1x1' },
    ],
    ['option-C shortcuts, one block a stage', { depth: 8, shortcut: 'C' }, 'resnet8', { shortcut: 'C' }],
    [
      'an ImageNet ResNet with conv biases and torchvision epsilon, narrow',
      { depth: 10, convBias: true, batchNorm: { epsilon: 1e-5 }, width: 0.25 },
      'resnet10',
      { width: 0.25, convBias: true, batchNorm: { epsilon: 1e-5 } },
    ],
    ['an ImageNet bottleneck ResNet', { depth: 50, width: 0.125 }, 'resnet50', { width: 0.125 }],
  ])('inferArchitecture: %s', (_, config, model, modelOptions) => {
    const built = buildResNet({ ...config, numClasses: 3, inputShape: [32, 32, 3], seed: 0 });
    expect(inferArchitecture(built)).toEqual({ model, modelOptions });
    built.dispose();
  });
});

describe('fine-tuning runs', () => {
  it('freeze keeps frozen weights and batch-norm statistics bit-identical while the rest trains; headLrMult 0 keeps the head at init', async () => {
    const outDir = path.join(root, 'frozen');
    const events: TrainEvent[] = [];
    const tensors = tf.memory().numTensors;
    const result = await train(fineTune({ freeze: 'stage1', headLrMult: 0, epochs: 1 }), {
      outDir,
      onEvent: (e) => events.push(e),
    });
    expect(result.steps).toBe(3);
    expect(tf.memory().numTensors).toBe(tensors);
    const before = await namedWeights(base);
    const after = await namedWeights(result.modelDir);
    const head = freshHead(3, 0);
    const frozen = [...after.keys()].filter((name) => /^conv[12]_/.test(name));
    const trained = [...after.keys()].filter((name) => /^conv[34]_/.test(name));
    expect(frozen).toEqual(
      expect.arrayContaining([
        'conv1_conv/kernel',
        'conv1_bn/moving_mean',
        'conv2_block1_2_bn/moving_variance',
      ]),
    );
    for (const name of frozen) expect(after.get(name)).toEqual(before.get(name));
    for (const name of [
      'conv3_block1_1_conv/kernel',
      'conv3_block1_1_bn/moving_mean',
      'conv4_block1_2_bn/gamma',
    ]) {
      expect(trained).toContain(name);
      expect(after.get(name)).not.toEqual(before.get(name));
    }
    for (const [name, values] of head) expect(after.get(name)).toEqual(values);
    // The run says how it started, and records where the weights came from.
    const start = events.find((e) => e.type === 'start');
    expect(start).toMatchObject({
      pretrained: {
        dir: base,
        model: 'resnet8',
        sha256: sha256(readFileSync(path.join(base, 'model', 'weights.bin'))),
      },
      frozen: { through: 'stage1', layers: 8 },
      headLrMult: 0,
    });
    if (start?.type === 'start') expect(start.trainableParams).toBeLessThan(start.params);
    const saved = JSON.parse(readFileSync(runFiles(outDir).config, 'utf8'));
    expect(saved).toMatchObject({
      pretrained: base,
      model: 'resnet8',
      imageSize: 16,
      freeze: 'stage1',
      headLrMult: 0,
    });
    expect(saved.pretrainedSha256).toMatch(/^[0-9a-f]{64}$/);
    // Normalisation and input size are the pretrained model's.
    const preprocessing = JSON.parse(readFileSync(runFiles(outDir).preprocessing, 'utf8'));
    const basePreprocessing = JSON.parse(readFileSync(runFiles(base).preprocessing, 'utf8'));
    expect(preprocessing.eval.normalization).toEqual(basePreprocessing.eval.normalization);
    expect(preprocessing.inputSize).toEqual([16, 16]);
    expect(readFileSync(runFiles(outDir).report, 'utf8')).toContain(
      `fine-tuning from pretrained weights in ${base} (resnet8, SHA-256 ${saved.pretrainedSha256.slice(0, 12)}…); frozen: stem through stage1; new head LR × 0`,
    );
  });

  it('resumes a fine-tuning run bit for bit, without the pretrained model', async () => {
    const config = fineTune({ freeze: 'stem', headLrMult: 3, seed: 1 });
    const whole = await train(config, { outDir: path.join(root, 'whole') });
    const copy = path.join(root, 'pretrained-copy');
    await cp(base, copy, { recursive: true });
    const outDir = path.join(root, 'stopped');
    let steps = 0;
    const first = await train(
      { ...config, pretrained: copy },
      {
        outDir,
        onEvent: (e) => {
          if (e.type === 'step') steps++;
        },
        shouldStop: () => steps === 4, // mid-way through epoch 2 (3 steps per epoch)
      },
    );
    expect(first.interrupted).toBe(true);
    await rm(copy, { recursive: true });
    const events: TrainEvent[] = [];
    const resumed = await train(undefined, { outDir, resume: true, onEvent: (e) => events.push(e) });
    expect(resumed.history.map((h) => h.val)).toEqual(whole.history.map((h) => h.val));
    expect(await namedWeights(resumed.modelDir)).toEqual(await namedWeights(whole.modelDir));
    expect(events.find((e) => e.type === 'start')).toMatchObject({
      pretrained: { dir: copy, model: 'resnet8' },
      frozen: { through: 'stem' },
      headLrMult: 3,
      resumedFrom: { step: 4 },
    });
  });

  it('beats the same run from scratch on a related task', async () => {
    const results: string[] = [];
    for (const seed of [0, 1]) {
      const pretrained = await train(fineTune({ seed }), {
        outDir: path.join(root, `vs-pretrained-${seed}`),
      });
      const { pretrained: _, ...rest } = fineTune({ seed });
      const scratch = await train(
        { ...rest, model: 'resnet8' },
        { outDir: path.join(root, `vs-scratch-${seed}`) },
      );
      const a = pretrained.history.at(-1)?.val;
      const b = scratch.history.at(-1)?.val;
      results.push(
        `seed ${seed}: pretrained top-1 ${a?.top1} loss ${a?.loss}, scratch top-1 ${b?.top1} loss ${b?.loss}`,
      );
      expect(a?.loss).toBeLessThan(0.75 * (b?.loss as number));
      expect(a?.top1).toBeGreaterThanOrEqual(b?.top1 as number);
    }
    if (process.env.FINETUNE_REPORT) console.log(results.join('\n'));
  });
});

describe('bad settings', () => {
  /** A run that must fail before any data is read (there is none). */
  const refused = (extra: Partial<TrainConfigInput>) =>
    train(fineTune({ data: path.join(root, 'no-such-data'), ...extra }), {
      outDir: path.join(root, 'refused'),
    });

  it('fail with one line naming the field, before any data is read', async () => {
    await expect(refused({ freeze: 'stage4' })).rejects.toThrow(
      /^freeze: must be one of stem, stage1, stage2, stage3 for resnet8, which has 3 stages \(got "stage4"\)$/,
    );
    await expect(refused({ freeze: 'foo' as 'stem' })).rejects.toThrow(
      /^freeze: must be one of stem, stage1, stage2, stage3, stage4 \(got "foo"\)$/,
    );
    await expect(refused({ headLrMult: -1 })).rejects.toThrow(/^headLrMult: must be at least 0 \(got -1\)$/);
    await expect(refused({ pretrained: path.join(root, 'nope') })).rejects.toThrow(
      /^pretrained: .*nope: the model directory does not exist$/,
    );
    const empty = path.join(root, 'empty-dir');
    await mkdir(empty, { recursive: true });
    await expect(refused({ pretrained: empty })).rejects.toThrow(/^pretrained: .*empty-dir: holds no model/);
    await expect(refused({ model: 'resnet20' })).rejects.toThrow(
      /^model: must be resnet8, the architecture of the pretrained model in .*base, or be left out \(got "resnet20"\)$/,
    );
    await expect(refused({ pretrained: undefined, model: 'resnet8', freeze: 'stem' })).rejects.toThrow(
      /^freeze: needs pretrained weights to start from/,
    );
    await expect(refused({ pretrainedSha256: '0'.repeat(64) })).rejects.toThrow(
      /^pretrainedSha256: is 0{64}, but the weights in .*base have SHA-256 [0-9a-f]{64}: they are not the pretrained weights/,
    );
    // A model whose layers are no resnet-core ResNet's, and no config.json naming its architecture.
    const noModel = path.join(root, 'odd-model');
    const input = tfl.input({ shape: [16, 16, 3] });
    const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    const odd = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 3, name: 'predictions' }).apply(flat) as tfl.SymbolicTensor,
    });
    const bundle = await loadModel(base);
    await exportModel(noModel, odd, bundle.labels, bundle.preprocessing);
    bundle.model.dispose();
    odd.dispose();
    await expect(refused({ pretrained: noModel })).rejects.toThrow(
      /^pretrained: .*odd-model: cannot tell the model's architecture .*; give it with model$/,
    );
  });

  it('a fine-tuning run resumed with another freeze or head multiplier is refused', async () => {
    const outDir = path.join(root, 'frozen');
    await expect(train({ freeze: 'stem' }, { outDir, resume: true })).rejects.toThrow(
      /^freeze: must stay "stage1" in a resumed run/,
    );
    await expect(train({ headLrMult: 1 }, { outDir, resume: true })).rejects.toThrow(
      /^headLrMult: must stay 0 in a resumed run/,
    );
  });
});

afterAll(() => {
  expect(tf.getBackend()).toBe(backend);
});
