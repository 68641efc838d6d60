/** @jest-environment ../../packages/interop/src/onnx/onnxruntime-environment.cjs */
// (that environment lets onnxruntime-node's typed arrays pass its own instanceof checks under jest)
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeOnnx } from '@resnet-ts/interop';
import { buildModel, exportModel, loadModel, standardPreprocessing } from '@resnet-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { resnet } from './testing';

/** Deterministic numbers in [0, 1) (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS = ['cat', 'dog', 'emu'];
const preprocessing = standardPreprocessing({ mode: 'tf' }, [32, 32], true, 'none');

describe('resnet export', () => {
  let dir: string;
  let modelDir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'resnet-export-'));
    modelDir = path.join(dir, 'r20');
    // ResNet-20 with option-A shortcuts and fused BN+ReLU: saved as stock layers (AveragePooling2D +
    // Permute + ZeroPadding2D + Permute, BatchNormalization + Activation), as training exports it.
    const model = buildModel({ model: 'resnet20', numClasses: 3, inputSize: [32, 32], seed: 3 });
    const random = seeded(5);
    for (const layer of model.layers) {
      if (!layer.getClassName().includes('BatchNorm')) continue;
      const fresh = layer.getWeights().map((w, i) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, () => (i === 3 ? 0.5 + random() : random() - 0.5)),
          w.shape,
        ),
      );
      layer.setWeights(fresh);
      tf.dispose(fresh);
    }
    await exportModel(modelDir, model, LABELS, preprocessing, { model: 'resnet20' });
    model.dispose();
  });

  it('writes an .onnx file that onnxruntime runs like the saved model, labels and preprocessing in its metadata', async () => {
    const file = path.join(dir, 'out', 'r20.onnx');
    const result = await resnet('export', '--model', modelDir, '--format', 'onnx', '--out', file);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(
      /^wrote .*r20\.onnx: ONNX opset 17, [\d.]+ MB; input input_1 \[batch, 32, 32, 3\] NHWC float32, output predictions \[batch, 3\] probabilities; 19 batch norms folded into convolutions; labels and preprocessing in its metadata\n$/,
    );
    const bytes = new Uint8Array(await readFile(file));
    const description = describeOnnx(bytes);
    expect(description.producerName).toBe('@resnet-ts/interop');
    expect(JSON.parse(description.metadata.labels as string)).toEqual(LABELS);
    expect(JSON.parse(description.metadata.preprocessing as string)).toEqual(preprocessing);
    expect(description.metadata.input_layout).toMatch(/^NHWC float32/);
    expect(await readdir(path.join(dir, 'out'))).toEqual(['r20.onnx']); // no temp file left

    // The model as loaded from its directory (stock layers) and onnxruntime agree.
    const bundle = await loadModel(modelDir);
    const random = seeded(9);
    const data = Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => 2 * random() - 1);
    const expected = tf.tidy(() =>
      (bundle.model.predict(tf.tensor4d(data, [2, 32, 32, 3])) as tf.Tensor).dataSync(),
    );
    bundle.model.dispose();
    const session = await ort.InferenceSession.create(bytes);
    const output = (await session.run({ input_1: new ort.Tensor('float32', data, [2, 32, 32, 3]) }))
      .predictions;
    await session.release();
    const actual = output?.data as Float32Array;
    const difference = Math.max(...Array.from(expected, (e, i) => Math.abs(e - (actual[i] as number))));
    expect(difference / Math.max(...Array.from(expected, Math.abs))).toBeLessThan(1e-4);

    // Again, over the same file: replaced; --opset and --json.
    const again = await resnet(
      'export',
      '--model',
      modelDir,
      '--format',
      'onnx',
      '--out',
      file,
      '--opset',
      '13',
      '--json',
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({
      format: 'onnx',
      opset: 13,
      irVersion: 7,
      output: 'probabilities',
    });
    expect(describeOnnx(new Uint8Array(await readFile(file))).opset).toBe(13);
  });

  it('copies the TensorFlow.js layers model directory', async () => {
    const out = path.join(dir, 'copy');
    const result = await resnet('export', '--model', modelDir, '--format', 'tfjs', '--out', out);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^wrote .*copy: TensorFlow\.js layers model \(model\.json, weights\.bin, labels\.json, preprocessing\.json, config\.json\)/,
    );
    expect((await readdir(out)).sort()).toEqual([
      'config.json',
      'labels.json',
      'model.json',
      'preprocessing.json',
      'weights.bin',
    ]);
    const copy = await loadModel(out);
    expect(copy.labels).toEqual(LABELS);
    copy.model.dispose();
    const twice = await resnet('export', '--model', modelDir, '--format', 'tfjs', '--out', out);
    expect(twice).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--out .*copy is not empty; choose another directory/),
    });
  });

  it('names an unsupported layer and writes nothing', async () => {
    const odd = path.join(dir, 'odd');
    const input = tfl.input({ shape: [8, 8, 3] });
    let x = tfl.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw' }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .dense({ units: 3, activation: 'softmax', name: 'predictions' })
      .apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    await exportModel(odd, model, LABELS, preprocessing);
    model.dispose();
    const file = path.join(dir, 'odd.onnx');
    const result = await resnet('export', '--model', odd, '--format', 'onnx', '--out', file);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^resnet: .*odd: layer dw \(class DepthwiseConv2D\) is not supported; /);
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(file)).toBe(false);
  });

  it.each([
    [
      ['--model', 'MISSING', '--format', 'onnx', '--out', 'OUT.onnx'],
      1,
      /missing: the model directory does not exist$/,
    ],
    [
      ['--model', 'MODEL', '--format', 'onnx', '--out', 'DIR'],
      1,
      /--out .* is a directory; give the file to write, e\.g\. .*model\.onnx$/,
    ],
    [
      ['--model', 'MODEL', '--format', 'tfjs', '--out', 'OUT', '--opset', '17'],
      1,
      /--opset: applies to --format onnx only$/,
    ],
    [
      ['--model', 'MODEL', '--format', 'onnx', '--out', 'OUT.onnx', '--opset', '12'],
      2,
      /--opset <n>' argument '12' is invalid\. expected 13 to 21, got 12/,
    ],
    [
      ['--model', 'MODEL', '--format', 'pt', '--out', 'OUT.onnx'],
      2,
      /--format <format>' argument 'pt' is invalid\. Allowed choices are onnx, tfjs/,
    ],
    [
      ['--model', 'MODEL', '--format', 'onnx', '--out', 'MODEL/inside.onnx'],
      1,
      /--out .*inside\.onnx is inside the model directory/,
    ],
  ])('refuses %j in one line and writes nothing', async (args, code, message) => {
    const empty = path.join(dir, 'a-directory');
    await mkdir(empty, { recursive: true });
    await writeFile(path.join(empty, 'keep.txt'), 'x');
    const fresh = path.join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    const argv = (args as string[]).map((a) =>
      a
        .replace('MISSING', path.join(dir, 'missing'))
        .replace('MODEL', modelDir)
        .replace(/^DIR$/, empty)
        .replace(/^OUT/, fresh),
    );
    const result = await resnet('export', ...argv);
    expect(result.code).toBe(code);
    expect(result.err.trim()).toMatch(message);
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(
      existsSync(`${fresh}.onnx`) || existsSync(fresh) || existsSync(path.join(modelDir, 'inside.onnx')),
    ).toBe(false);
  });
});
