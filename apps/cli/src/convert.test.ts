import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeImage } from '@resnet-ts/augment';
import { readSafetensors } from '@resnet-ts/interop';
import { loadModel } from '@resnet-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { resnet } from './testing';

// The interop package's fixtures: nets saved by PyTorch/torchvision and Keras with their logits.
const FIXTURES = path.join(__dirname, '..', '..', '..', 'packages', 'interop', 'fixtures');

const softmax = (logits: Float32Array, classes: number) =>
  tf.tidy(() => tf.softmax(tf.tensor2d(logits, [logits.length / classes, classes])).dataSync());

describe('resnet convert', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'resnet-convert-'));
  });

  it('writes a model directory that predict and loadModel load, with the framework outputs', async () => {
    const out = path.join(dir, 'tv50');
    const result = await resnet(
      'convert',
      '--from',
      'torchvision',
      path.join(FIXTURES, 'tv_resnet50_w16.pth'),
      '--out',
      out,
      '--image-size',
      '64',
    );
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(
      /resnet50 \(imagenet, pytorch, 320 tensors, 110,362 parameters\), 10 classes, 64 px, imagenet normalisation/,
    );
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      model: 'resnet50',
      modelOptions: { strideOn: '3x3', width: 1 / 16 },
      convertedFrom: { from: 'torchvision', format: 'pytorch' },
    });
    expect(config.convertedFrom.sha256).toMatch(/^[0-9a-f]{64}$/);

    // Stock layers only: plain tf.loadLayersModel (tfjs-node, the browser) needs nothing of ours.
    const topology = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')).modelTopology;
    const classes = new Set<string>(
      (topology.model_config ?? topology).config.layers.map((l: { class_name: string }) => l.class_name),
    );
    expect([...classes].filter((c) => c.startsWith('ResNet'))).toEqual([]);

    // The saved model gives the framework's probabilities on the framework's input.
    const bundle = await loadModel(out);
    try {
      expect(bundle.preprocessing.eval.normalization).toMatchObject({ mode: 'per-channel' });
      expect(bundle.preprocessing.eval.steps).toEqual([{ op: 'resizeAndCenterCrop', shorter: 73, size: 64 }]);
      const io = readSafetensors(
        new Uint8Array(await readFile(path.join(FIXTURES, 'tv_resnet50_w16.io.safetensors'))),
        'io',
      );
      const input = io.get('input');
      const logits = io.get('logits');
      if (!input || !logits) throw new Error('fixture without input/logits');
      const probabilities = tf.tidy(() =>
        (bundle.model.predict(tf.tensor(input.values, input.shape)) as tf.Tensor).dataSync(),
      );
      const expected = softmax(logits.values, 10);
      const worst = Math.max(...Array.from(probabilities, (p, i) => Math.abs(p - (expected[i] as number))));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      bundle.model.dispose();
    }

    const image = path.join(dir, 'photo.png');
    await writeFile(
      image,
      await encodeImage(
        { width: 80, height: 96, channels: 3, data: new Uint8Array(80 * 96 * 3).fill(90) },
        'png',
      ),
    );
    const predicted = await resnet('predict', '--model', out, image, '--top', '2', '--backend', 'cpu');
    expect(predicted.code).toBe(0);
    expect(predicted.out).toMatch(/photo\.png\n +\d+\.\d+% {2}class_\d\n +\d+\.\d+% {2}class_\d\n$/);
  });

  it('records caffe preprocessing for Keras weights and takes class names from --labels', async () => {
    const labels = path.join(dir, 'names.txt');
    await writeFile(labels, `${Array.from({ length: 10 }, (_, i) => `kind ${i}`).join('\n')}\n`);
    const out = path.join(dir, 'keras8');
    const result = await resnet(
      'convert',
      '--from',
      'keras',
      path.join(FIXTURES, 'keras_resnet8_b.keras'),
      '--out',
      out,
      '--labels',
      labels,
      '--json',
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      model: 'resnet8',
      family: 'cifar',
      classes: 10,
      imageSize: 32,
      normalization: 'caffe',
      format: 'keras-archive',
    });
    expect(JSON.parse(await readFile(path.join(out, 'labels.json'), 'utf8'))[3]).toBe('kind 3');
    expect(JSON.parse(await readFile(path.join(out, 'preprocessing.json'), 'utf8'))).toMatchObject({
      eval: { steps: [], normalization: { mode: 'caffe' } },
      inputSize: [32, 32],
    });
  });

  it.each([
    [
      ['--from', 'keras', 'tv_resnet8_a.pth'],
      /tv_resnet8_a\.pth: is a PyTorch file, not weights from keras; use --from torchvision or timm$/,
    ],
    [
      ['--from', 'torchvision', 'tv_resnet20_b.safetensors', '--model', 'resnet56'],
      /holds a CIFAR ResNet-20 \(basic blocks 3, 3, 3\), not resnet56$/,
    ],
    [
      ['--from', 'torchvision', 'code.pth'],
      /code\.pth: the pickle asks for posix\.system, which would run code/,
    ],
    [['--from', 'torchvision', 'missing.pth'], /missing\.pth: no such file$/],
    [['--from', 'torchvision', 'tv_resnet8_a.pth', '--model', 'vgg16'], /--model: expected resnet<depth>/],
    [['--from', 'keras', 'keras_other.weights.h5'], /not a Keras ResNet \(no conv1_conv layer\)$/],
  ])('refuses %j in one line and writes nothing', async (args, message) => {
    const out = path.join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    const [from, source, file, ...rest] = args as string[];
    const result = await resnet(
      'convert',
      from as string,
      source as string,
      path.join(FIXTURES, file as string),
      '--out',
      out,
      ...rest,
    );
    expect(result.code).toBe(1);
    expect(result.err.trim()).toMatch(message);
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a --labels file of the wrong length and an --out that holds a model', async () => {
    const labels = path.join(dir, 'three.json');
    await writeFile(labels, JSON.stringify(['a', 'b', 'c']));
    const out = path.join(dir, 'labelled');
    const wrong = await resnet(
      'convert',
      '--from',
      'torchvision',
      path.join(FIXTURES, 'tv_resnet8_a.pth'),
      '--out',
      out,
      '--labels',
      labels,
    );
    expect(wrong).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--labels .*three\.json: names 3 classes, the model has 10 outputs/),
    });
    expect(existsSync(out)).toBe(false);
    expect(
      (
        await resnet(
          'convert',
          '--from',
          'torchvision',
          path.join(FIXTURES, 'tv_resnet8_a.pth'),
          '--out',
          out,
        )
      ).code,
    ).toBe(0);
    const again = await resnet(
      'convert',
      '--from',
      'torchvision',
      path.join(FIXTURES, 'tv_resnet8_a.pth'),
      '--out',
      out,
    );
    expect(again).toMatchObject({ code: 1, err: expect.stringMatching(/already holds a model/) });
  });
});
