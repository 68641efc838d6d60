import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainConfigInput } from './config';
import { exportModel, loadModel } from './export';
import { evaluateModel, predictImages } from './inference';
import { readTensorBoardRun } from './tensorboard';
import { testBackend } from './testing/backend';
import { writeFolderDataset } from './testing/fixtures';
import { runFiles, train } from './trainer';

let data: string;
let backend: string;

beforeAll(async () => {
  backend = await testBackend();
  data = await mkdtemp(path.join(os.tmpdir(), 'train-data-'));
  await writeFolderDataset(data, { classes: 3, perClass: 30, size: 16 });
});

const config = (cacheDir: string): TrainConfigInput => ({
  data,
  model: 'resnet8',
  epochs: 3,
  batchSize: 16,
  lr: 0.05,
  schedule: 'cosine',
  valSplit: 0.2,
  seed: 1,
  workers: 0,
  backend: backend as 'cpu',
  cacheDir,
  logEvery: 2,
  reportImages: 8,
});

async function weightsOf(run: string): Promise<Float32Array> {
  const bundle = await loadModel(run);
  const values = bundle.model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  bundle.model.dispose();
  return Float32Array.from(values);
}

describe('train', () => {
  let run: string;
  let history: Awaited<ReturnType<typeof train>>['history'];

  beforeAll(async () => {
    run = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    ({ history } = await train(config(path.join(run, '..', `${path.basename(run)}-cache`)), { outDir: run }));
  });

  it('learns the fixture well above chance and logs every epoch', () => {
    expect(history).toHaveLength(3);
    expect(history.at(-1)!.val!.top1).toBeGreaterThan(0.8); // chance: 1/3
    expect(history.at(-1)!.val!.count).toBe(18);
    const lines = readFileSync(runFiles(run).metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'epoch')).toHaveLength(3);
    expect(lines.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([2, 4, 6, 8, 10, 12, 14]);
  });

  it('writes TensorBoard events, checkpoint, models, and a report with mistakes shown', () => {
    const files = runFiles(run);
    expect(readdirSync(files.tensorboard).sort()).toEqual(['train', 'validation']);
    const train = readTensorBoardRun(path.join(files.tensorboard, 'train'));
    const validation = readTensorBoardRun(path.join(files.tensorboard, 'validation'));
    expect([...validation.keys()].sort()).toEqual(['epoch_accuracy', 'epoch_loss', 'epoch_top5_accuracy']);
    expect(validation.get('epoch_accuracy')!.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(validation.get('epoch_accuracy')!.map((p) => p.value)).toEqual(
      history.map((h) => Math.fround(h.val!.top1)),
    );
    expect(train.get('epoch_loss')!.map((p) => p.step)).toEqual([1, 2, 3]);
    expect([...train.keys()].filter((tag) => tag.includes('learning_rate')).sort()).toEqual([
      'batch_learning_rate',
      'epoch_learning_rate',
    ]);
    expect(train.get('batch_loss')!.map((p) => p.step)).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(readdirSync(files.checkpoint).sort()).toEqual([
      'optimizer.bin',
      'optimizer.json',
      'state.json',
      'weights.bin',
      'weights.json',
    ]);
    for (const dir of [files.model, files.best]) {
      expect(readdirSync(dir).sort()).toEqual([
        'config.json',
        'labels.json',
        'model.json',
        'preprocessing.json',
        'weights.bin',
      ]);
    }
    const report = readFileSync(files.report, 'utf8');
    expect(report).toContain('<svg');
    expect(report).toContain('Confusion matrix');
    // The trainer gives the report its summary and the schedule's per-step learning rate.
    expect(report.indexOf('<section id="summary">')).toBeLessThan(report.indexOf('<section id="epochs">'));
    expect(report).toContain('3 classes, 72 training images, 18 validation images');
    expect(report).toContain('<title>Learning rate (per step)</title>');
    expect(JSON.parse(readFileSync(files.labels, 'utf8'))).toEqual(['class-a', 'class-b', 'class-c']);
  });

  it('eval on the saved model reproduces the validation accuracy seen in training', async () => {
    const evaluation = await evaluateModel({ model: run });
    const last = history.at(-1)!.val!;
    expect(evaluation.split).toBe('val');
    expect(evaluation.count).toBe(last.count);
    expect(evaluation.top1).toBe(last.top1);
    expect(evaluation.loss).toBeCloseTo(last.loss, 4);
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(18);
  });

  it("eval --split val needs the run's own data: the same path reproduces it, other data is refused", async () => {
    const same = await evaluateModel({ model: run, data: path.relative(process.cwd(), data), split: 'val' });
    expect(same.count).toBe(18);
    expect(same.top1).toBe(history.at(-1)!.val!.top1);
    const other = await mkdtemp(path.join(os.tmpdir(), 'other-data-'));
    await writeFolderDataset(other, { classes: 3, perClass: 5, size: 16, seed: 9 });
    await expect(evaluateModel({ model: run, data: other, split: 'val' })).rejects.toThrow(
      `split: val is the validation split of the run's data (${data}), not of ${other}; use --split all or test`,
    );
    expect((await evaluateModel({ model: run, data: other })).count).toBe(15);
  });

  it('eval works on the exported best/ model too, and a new run refuses an occupied directory', async () => {
    const evaluation = await evaluateModel({ model: runFiles(run).best });
    expect(evaluation.count).toBe(18);
    await expect(train(config('/tmp/unused-cache'), { outDir: run })).rejects.toThrow(
      /already holds a run; resume it/,
    );
  });

  it('eval scores a folder of some of the classes, named by label or by class id, against all outputs', async () => {
    const full = await evaluateModel({ model: run, data });
    const bundle = await loadModel(run);
    const withIds = path.join(await mkdtemp(path.join(os.tmpdir(), 'class-ids-')), 'model');
    await exportModel(withIds, bundle.model, bundle.labels, bundle.preprocessing, undefined, [
      'n1',
      'n2',
      'n3',
    ]);
    bundle.model.dispose();
    expect((await loadModel(withIds)).classIds).toEqual(['n1', 'n2', 'n3']);
    // class-b by its id, class-c by its name.
    const subset = await mkdtemp(path.join(os.tmpdir(), 'subset-'));
    await cp(path.join(data, 'class-b'), path.join(subset, 'n2'), { recursive: true });
    await cp(path.join(data, 'class-c'), path.join(subset, 'class-c'), { recursive: true });
    const evaluation = await evaluateModel({ model: withIds, data: subset });
    const rows = [1, 2].map((c) => full.confusion[c]!);
    const count = rows.flat().reduce((a, b) => a + b, 0);
    expect(evaluation.count).toBe(count);
    expect(evaluation.top1).toBeCloseTo(((rows[0]![1] as number) + (rows[1]![2] as number)) / count, 10);
    expect(evaluation.confusion[0]!.every((n) => n === 0)).toBe(true); // no class-a images
    await cp(path.join(data, 'class-a'), path.join(subset, 'n9'), { recursive: true });
    await expect(evaluateModel({ model: withIds, data: subset })).rejects.toThrow(
      `data: ${subset} has classes the model does not know (n9); the model's are class-a, class-b, class-c (or by id n1, n2, n3)`,
    );
  });

  it('predict names classes with probabilities that sum to 1', async () => {
    const image = path.join(data, 'class-b', '000.png');
    const [prediction] = await predictImages(run, [image], 3);
    expect(prediction!.top.map((t) => t.label).sort()).toEqual(['class-a', 'class-b', 'class-c']);
    expect(prediction!.top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 5);
    expect(prediction!.top[0]!.label).toBe('class-b');
  });

  it('predict scores any number of images a batch at a time, the same as all at once', async () => {
    const images = [
      'class-a/001.png',
      'class-b/002.png',
      'class-c/003.png',
      'class-a/004.png',
      'class-c/005.png',
    ];
    const files = images.map((f) => path.join(data, f));
    const together = await predictImages(run, files, 3, 'none', 32);
    const inTwos = await predictImages(run, files, 3, 'none', 2);
    expect(inTwos.map((p) => p.file)).toEqual(files.map((f) => path.resolve(f)));
    for (const [n, prediction] of inTwos.entries()) {
      expect(prediction.top.map((t) => t.label)).toEqual(together[n]!.top.map((t) => t.label));
      for (const [j, t] of prediction.top.entries())
        expect(t.probability).toBeCloseTo(together[n]!.top[j]!.probability, 5);
    }
    await expect(predictImages(run, files, 3, 'none', 0)).rejects.toThrow(
      'batchSize: expected a positive integer, got 0',
    );
  });

  it('an interrupted run resumed from its checkpoint ends with the same weights', async () => {
    const resumed = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    const cache = `${resumed}-cache`;
    let steps = 0;
    const first = await train(config(cache), {
      outDir: resumed,
      onEvent: (e) => {
        if (e.type === 'step') steps++;
      },
      shouldStop: () => steps === 6, // mid-way through epoch 2 (5 steps per epoch)
    });
    expect(first.interrupted).toBe(true);
    const state = JSON.parse(readFileSync(path.join(runFiles(resumed).checkpoint, 'state.json'), 'utf8'));
    expect([state.epoch, state.batch, state.step]).toEqual([1, 1, 6]);
    const second = await train(undefined, { outDir: resumed, resume: true });
    expect(second.interrupted).toBe(false);
    expect(second.history.map((h) => h.val?.top1)).toEqual(history.map((h) => h.val?.top1));
    expect(second.history.map((h) => h.train.loss)).toEqual(history.map((h) => h.train.loss));
    const a = await weightsOf(run);
    const b = await weightsOf(resumed);
    expect(b).toEqual(a);
    const lines = readFileSync(runFiles(resumed).metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'epoch').map((l) => l.epoch)).toEqual([1, 2, 3]);
    // TensorBoard: the resumed process appends its own event files; together they show the
    // uninterrupted run's curves (timings aside).
    for (const dir of ['train', 'validation']) {
      const shown = (outDir: string) =>
        [...readTensorBoardRun(path.join(runFiles(outDir).tensorboard, dir))].filter(
          ([tag]) => !['epoch_images_per_second', 'epoch_data_wait_share'].includes(tag),
        );
      expect(readdirSync(path.join(runFiles(resumed).tensorboard, dir))).toHaveLength(2);
      expect(shown(resumed)).toEqual(shown(run));
    }
  });

  it('a stop asked for during validation ends on the epoch checkpoint, without another step', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    let steps = 0;
    let epochs = 0;
    const first = await train(config(`${dir}-cache`), {
      outDir: dir,
      onEvent: (e) => {
        if (e.type === 'step') steps++;
        if (e.type === 'epoch') epochs++;
      },
      shouldStop: () => epochs >= 1, // true from the end of epoch 1's validation on
    });
    expect(first.interrupted).toBe(true);
    expect(steps).toBe(5);
    const state = JSON.parse(readFileSync(path.join(runFiles(dir).checkpoint, 'state.json'), 'utf8'));
    expect([state.epoch, state.batch, state.step]).toEqual([1, 0, 5]);
    await train(undefined, { outDir: dir, resume: true });
    expect(await weightsOf(dir)).toEqual(await weightsOf(run));
  });

  it('maxSteps stops early with checkpoint, model and report; lifted on resume, it ends as the run never limited', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    const first = await train({ ...config(`${dir}-cache`), maxSteps: 7 }, { outDir: dir });
    expect(first).toMatchObject({ interrupted: false, maxStepsReached: true, steps: 7 });
    expect(first.history).toHaveLength(1); // 5 steps per epoch: stopped in epoch 2
    const files = runFiles(dir);
    const state = JSON.parse(readFileSync(path.join(files.checkpoint, 'state.json'), 'utf8'));
    expect([state.epoch, state.batch, state.step]).toEqual([1, 2, 7]);
    expect(readdirSync(files.model)).toContain('weights.bin');
    expect(first.reportFile && readFileSync(first.reportFile, 'utf8')).toContain('<html');
    const logged = () =>
      readFileSync(files.metrics, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    expect(logged().at(-1)).toEqual({ type: 'stop', reason: 'maxSteps', maxSteps: 7, step: 7 });
    // Resumed with the same limit: nothing more to do, and it says so again (once in the log).
    const again = await train(undefined, { outDir: dir, resume: true });
    expect(again).toMatchObject({ maxStepsReached: true, steps: 7 });
    expect(logged().filter((l) => l.type === 'stop')).toHaveLength(1);
    // Lifted (0: no limit), the run goes on to the end, as if it had never stopped.
    const rest = await train({ maxSteps: 0 }, { outDir: dir, resume: true });
    expect(rest).toMatchObject({ maxStepsReached: false, steps: 15 });
    expect(rest.history.map((h) => h.val?.top1)).toEqual(history.map((h) => h.val?.top1));
    expect(await weightsOf(dir)).toEqual(await weightsOf(run));
    expect(logged().filter((l) => l.type === 'stop')).toHaveLength(0);
  });

  it('maxSteps on an epoch boundary ends that epoch as usual (validation, checkpoint) before stopping', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    const first = await train({ ...config(`${dir}-cache`), maxSteps: 5 }, { outDir: dir });
    expect(first).toMatchObject({ interrupted: false, maxStepsReached: true, steps: 5 });
    expect(first.history.map((h) => h.val?.top1)).toEqual(history.slice(0, 1).map((h) => h.val?.top1));
    const state = JSON.parse(readFileSync(path.join(runFiles(dir).checkpoint, 'state.json'), 'utf8'));
    expect([state.epoch, state.batch, state.step]).toEqual([1, 0, 5]);
    const rest = await train({ maxSteps: 0 }, { outDir: dir, resume: true });
    expect(rest).toMatchObject({ maxStepsReached: false, steps: 15 });
    expect(await weightsOf(dir)).toEqual(await weightsOf(run));
  });

  it('stopped before its first step, a new run saves nothing and starts afresh next time', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    const stopped = await train(config(`${dir}-cache`), { outDir: dir, shouldStop: () => true });
    expect(stopped).toMatchObject({ interrupted: true, history: [] });
    expect(readdirSync(dir)).not.toContain('checkpoint');
    const again = await train({ ...config(`${dir}-cache`), epochs: 1 }, { outDir: dir });
    expect(again.history).toHaveLength(1);
  });

  it('refuses to resume a damaged checkpoint, naming the file', async () => {
    const broken = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    let steps = 0;
    await train(config(`${broken}-cache`), {
      outDir: broken,
      onEvent: (e) => {
        if (e.type === 'step') steps++;
      },
      shouldStop: () => steps === 2,
    });
    await writeFile(path.join(runFiles(broken).checkpoint, 'weights.bin'), new Uint8Array(10));
    await expect(train(undefined, { outDir: broken, resume: true })).rejects.toThrow(
      /checkpoint\/weights.bin: does not match weights.json.*damaged/,
    );
    await writeFile(path.join(runFiles(broken).checkpoint, 'state.json'), '{"version":');
    await expect(train(undefined, { outDir: broken, resume: true })).rejects.toThrow(
      /state.json: not valid JSON/,
    );
  });

  it('stops early when validation accuracy stops improving, and leaks no tensors', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    const before = tf.memory().numTensors;
    const result = await train(
      { ...config(`${dir}-cache`), lr: 1e-9, schedule: 'constant', epochs: 5, earlyStopping: 2 },
      { outDir: dir },
    );
    expect(result.earlyStopped).toBe(true);
    expect(result.history).toHaveLength(3);
    expect(result.best?.epoch).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saves models a browser can fetch over HTTP with tf.loadLayersModel', async () => {
    const server = createServer(async (req, res) => {
      try {
        res.end(await readFile(path.join(runFiles(run).model, path.basename(req.url ?? ''))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
      // Node's fetch builds its JSON in another realm than jest's sandbox, which tfjs-layers
      // rejects; re-parse in this realm. The bytes still come over HTTP as a browser gets them.
      const fetchFunc = async (input: string | URL | Request) => {
        const response = await fetch(input);
        const bytes = await response.arrayBuffer();
        return new Proxy(response, {
          get: (target, key) =>
            key === 'json'
              ? async () => JSON.parse(new TextDecoder().decode(bytes))
              : key === 'arrayBuffer'
                ? async () => new Uint8Array(bytes).slice().buffer
                : Reflect.get(target, key),
        });
      };
      const model = await tfl.loadLayersModel(url, { fetchFunc });
      const bundle = await loadModel(run);
      const x = tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 3);
      const a = (model.predict(x) as tf.Tensor).dataSync();
      const b = (bundle.model.predict(x) as tf.Tensor).dataSync();
      expect(Array.from(a)).toEqual(Array.from(b));
      x.dispose();
      model.dispose();
      bundle.model.dispose();
    } finally {
      server.close();
    }
  });

  it('saves only stock layers: plain tfjs-layers, without resnet-core registered, loads and agrees', async () => {
    const dir = runFiles(run).model;
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const classes = new Set<string>(
      json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name),
    );
    expect([...classes].filter((c) => c.startsWith('ResNet'))).toEqual([]);
    expect(classes).toContain('ZeroPadding2D'); // resnet8 has option-A shortcuts

    // Fresh module instances: tfjs-layers' class registry knows only its own layers.
    let plain: { tf: typeof tf; tfl: typeof tfl } | undefined;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {}); // "platform already set"
    jest.isolateModules(() => {
      plain = { tf: require('@tensorflow/tfjs-core'), tfl: require('@tensorflow/tfjs-layers') };
    });
    warn.mockRestore();
    const { tf: tf2, tfl: tfl2 } = plain!;
    const bytes = readFileSync(path.join(dir, 'weights.bin'));
    const model = await tfl2.loadLayersModel(
      tf2.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      }),
    );
    const input = Float32Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => Math.sin(i));
    const x2 = tf2.tensor4d(input, [2, 16, 16, 3]);
    const a = (model.predict(x2) as tf.Tensor).dataSync();
    const bundle = await loadModel(run);
    const x = tf.tensor4d(input, [2, 16, 16, 3]);
    const b = (bundle.model.predict(x) as tf.Tensor).dataSync();
    expect(a.length).toBe(b.length);
    for (const [i, v] of a.entries()) expect(v).toBeCloseTo(b[i]!, 5);
    tf2.dispose([x2]);
    model.dispose();
    x.dispose();
    bundle.model.dispose();
  });

  it('trains with MixUp and CutMix', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    const result = await train(
      { ...config(`${dir}-cache`), epochs: 1, mixup: 0.2, cutmix: 1 },
      { outDir: dir },
    );
    expect(result.history[0]!.train.loss).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(runFiles(dir).config, 'utf8'))).toMatchObject({ mixup: 0.2, cutmix: 1 });
  });

  it('keeps the saved config on resume, except runtime fields', async () => {
    await expect(train({ ...config('/tmp/x'), lr: 0.5 }, { outDir: run, resume: true })).rejects.toThrow(
      /^lr: must stay 0.05 in a resumed run \(a resumed run may change only data, valData, epochs, .*maxSteps\)$/,
    );
  });

  it('precision tf32 or bf16 off the cuda backend: refused before any data is read, on resume too', async () => {
    const fresh = await mkdtemp(path.join(os.tmpdir(), 'run-'));
    await expect(
      train({ ...config('/tmp/x'), data: '/nonexistent/data', precision: 'tf32' }, { outDir: fresh }),
    ).rejects.toThrow(`precision: tf32 needs --backend cuda (backend ${backend} computes in fp32 only`);
    // A runtime field: a resume may change it (and here is refused for the backend, not the run).
    await expect(train({ precision: 'bf16' }, { outDir: run, resume: true })).rejects.toThrow(
      /^precision: bf16 needs --backend cuda/,
    );
  });

  it('eval and predict: a precision asked for must suit the backend; one only recorded by the run leaves fp32', async () => {
    await expect(evaluateModel({ model: run, precision: 'tf32' })).rejects.toThrow(
      /^precision: tf32 needs --backend cuda/,
    );
    const image = path.join(data, 'class-b', '000.png');
    await expect(predictImages(run, [image], 3, 'none', 32, 'bf16')).rejects.toThrow(
      /^precision: bf16 needs --backend cuda/,
    );
    const copy = await mkdtemp(path.join(os.tmpdir(), 'run-tf32-'));
    await cp(run, copy, { recursive: true });
    for (const file of [runFiles(copy).config, path.join(runFiles(copy).model, 'config.json')]) {
      const saved = JSON.parse(await readFile(file, 'utf8'));
      await writeFile(file, JSON.stringify({ ...saved, precision: 'tf32' }));
    }
    expect((await evaluateModel({ model: copy })).top1).toBe(history.at(-1)!.val!.top1);
    expect((await predictImages(copy, [image], 3))[0]!.top[0]!.label).toBe('class-b');
  });

  it('resumes from data that moved, saving the new place and epochs; other data is refused', async () => {
    const moved = await mkdtemp(path.join(os.tmpdir(), 'moved-data-'));
    await cp(data, moved, { recursive: true });
    const other = await mkdtemp(path.join(os.tmpdir(), 'other-data-'));
    await writeFolderDataset(other, { classes: 3, perClass: 20, size: 16, seed: 5 });
    await expect(train({ data: other, epochs: 4 }, { outDir: run, resume: true })).rejects.toThrow(
      `data: ${other} is not the data this run started with`,
    );
    // Same classes, counts and file names, other pixels: only the fingerprint tells them apart.
    const lookalike = await mkdtemp(path.join(os.tmpdir(), 'lookalike-data-'));
    await writeFolderDataset(lookalike, { classes: 3, perClass: 30, size: 16, seed: 42 });
    await expect(train({ data: lookalike, epochs: 4 }, { outDir: run, resume: true })).rejects.toThrow(
      `data: ${lookalike} is not the data this run started with (its classes, images or split differ)`,
    );
    const typo = `${run}-typo`;
    await expect(train({ data: moved, epochs: 4 }, { outDir: typo, resume: true })).rejects.toThrow(
      `${typo}: no checkpoint to resume, and a new run there needs a complete config (model:`,
    );
    const result = await train({ data: moved, epochs: 4 }, { outDir: run, resume: true });
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    expect(JSON.parse(readFileSync(runFiles(run).config, 'utf8'))).toMatchObject({ data: moved, epochs: 4 });
  });
});

describe('validation data and divergence', () => {
  it('validates on valData when its classes match, and names the mismatch when they do not', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'valdata-'));
    await writeFolderDataset(path.join(root, 'val'), { classes: 3, perClass: 4, size: 16, seed: 11 });
    await writeFolderDataset(path.join(root, 'two'), { classes: 2, perClass: 4, size: 16, seed: 12 });
    const base = { ...config(`${root}-cache`), epochs: 1 };
    const result = await train(
      { ...base, valData: path.join(root, 'val') },
      { outDir: path.join(root, 'run') },
    );
    expect(result.history[0]!.val!.count).toBe(12);
    expect(result.history[0]!.train.count).toBe(90);
    await expect(
      train({ ...base, valData: path.join(root, 'two') }, { outDir: path.join(root, 'run-two') }),
    ).rejects.toThrow(
      'valData: has other classes (class-a, class-b) than the training data (class-a, class-b, class-c)',
    );
  });

  it('trains on the first maxPerClass images of each class, and eval finds the same validation images', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'subset-'));
    const result = await train(
      { ...config(`${root}-cache`), epochs: 1, maxPerClass: 10 },
      { outDir: path.join(root, 'run') },
    );
    expect(result.history[0]!.train.count + result.history[0]!.val!.count).toBe(30);
    const evaluation = await evaluateModel({ model: path.join(root, 'run') });
    expect(evaluation.count).toBe(result.history[0]!.val!.count);
    expect(evaluation.top1).toBe(result.history[0]!.val!.top1);
    // --split all of the run's data is every image of it, not the subset.
    expect((await evaluateModel({ model: path.join(root, 'run'), data, split: 'all' })).count).toBe(90);
  });

  it('limitPerClass trains on N images of each class chosen by the seed; eval finds them; a resume may not change it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'limit-'));
    const dir = path.join(root, 'run');
    const result = await train({ ...config(`${root}-cache`), epochs: 1, limitPerClass: 10 }, { outDir: dir });
    expect(result.history[0]!.train.count + result.history[0]!.val!.count).toBe(30);
    const evaluation = await evaluateModel({ model: dir });
    expect(evaluation.count).toBe(result.history[0]!.val!.count);
    expect(evaluation.top1).toBe(result.history[0]!.val!.top1);
    // Another seed picks other images (maxPerClass takes the first ones).
    const picked = async (seed: number) => {
      const out = path.join(root, `seed-${seed}`);
      await train({ ...config(`${root}-cache`), epochs: 1, limitPerClass: 10, seed }, { outDir: out });
      return JSON.parse(readFileSync(runFiles(out).split, 'utf8')).fingerprint.data;
    };
    const seed1 = await picked(1);
    expect(seed1).toBe(JSON.parse(readFileSync(runFiles(dir).split, 'utf8')).fingerprint.data);
    expect(await picked(2)).not.toBe(seed1);
    await expect(train({ limitPerClass: 12, epochs: 2 }, { outDir: dir, resume: true })).rejects.toThrow(
      /^limitPerClass: must stay 10 in a resumed run/,
    );
    const more = await train({ epochs: 2 }, { outDir: dir, resume: true });
    expect(more.history.map((h) => h.train.count)).toEqual([24, 24]);
  });

  it('stops with a clear error when the loss diverges', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'diverge-'));
    await expect(
      train(
        { ...config(`${root}-cache`), epochs: 1, lr: 1e12, warmupEpochs: 0 },
        { outDir: path.join(root, 'run') },
      ),
    ).rejects.toThrow(
      /step \d+: loss is (NaN|Infinity) at lr .*; a resumed run would repeat this, so start a new run with a lower learning rate/,
    );
  });
});

describe('train/val trees', () => {
  it('validates on val/ instead of splitting, and eval reproduces it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'tree-'));
    await writeFolderDataset(path.join(root, 'train'), { classes: 2, perClass: 12, size: 16, seed: 3 });
    await writeFolderDataset(path.join(root, 'val'), { classes: 2, perClass: 4, size: 16, seed: 4 });
    const run = `${root}-run`;
    const result = await train(
      {
        data: root,
        model: 'resnet8',
        epochs: 1,
        batchSize: 8,
        lr: 0.05,
        workers: 0,
        backend: backend as 'cpu',
        cacheDir: `${root}-cache`,
        reportImages: 0,
      },
      { outDir: run },
    );
    expect(result.history[0]!.val!.count).toBe(8);
    expect(result.history[0]!.train.count).toBe(24);
    const evaluation = await evaluateModel({ model: run });
    expect(evaluation.count).toBe(8);
    expect(evaluation.top1).toBe(result.history[0]!.val!.top1);
  });
});
