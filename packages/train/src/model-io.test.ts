import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BatchNormReLU, SubsampleZeroPad } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { exportModel, loadModel } from './export';
import { fileSystem, saveModel } from './model-io';
import { buildModel } from './models';

beforeAll(() => tf.setBackend('cpu'));

function tinyModel() {
  const input = tfl.input({ shape: [4] });
  const hidden = tfl.layers
    .dense({ units: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })
    .apply(input);
  const output = tfl.layers
    .dense({ units: 2, name: 'predictions', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) })
    .apply(hidden) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

describe('file-system model IO', () => {
  it('saves the layers format that tf.loadLayersModel reads back to the same outputs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    const model = tinyModel();
    await saveModel(model, dir);
    const loaded = await tfl.loadLayersModel(fileSystem(dir));
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  });

  it('can ship probabilities from a model trained on logits', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    const model = tinyModel();
    await saveModel(model, dir, { outputActivation: 'softmax' });
    const loaded = await tfl.loadLayersModel(fileSystem(dir));
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const expected = tf.softmax(model.predict(x) as tf.Tensor).dataSync();
    const got = (loaded.predict(x) as tf.Tensor).dataSync();
    for (const [i, v] of got.entries()) expect(v).toBeCloseTo(expected[i]!, 6);
  });

  it.each([
    [2, 3, 7],
    [1, 4, 8],
    [3, 2, 5],
  ])(
    'writes an option-A shortcut (stride %i, %i → %i channels) as stock layers, same outputs',
    async (strides, channels, filters) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
      const input = tfl.input({ shape: [5, 5, channels] });
      const shortcut = new SubsampleZeroPad({ strides, filters, name: 'short' }).apply(
        input,
      ) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: shortcut });
      await saveModel(model, dir, { stockShortcuts: new Map([['short', channels]]) });
      const text = await readFile(path.join(dir, 'model.json'), 'utf8');
      expect(text).not.toContain('ResNetSubsampleZeroPad');
      const loaded = await tfl.loadLayersModel(fileSystem(dir));
      expect(loaded.layers.map((l) => l.getClassName())).toEqual([
        'InputLayer',
        'AveragePooling2D',
        'Permute',
        'ZeroPadding2D',
        'Permute',
      ]);
      expect(loaded.outputs[0]?.shape).toEqual(model.outputs[0]?.shape);
      const x = tf.randomUniform([2, 5, 5, channels], -1, 1, 'float32', 4);
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
        Array.from((model.predict(x) as tf.Tensor).dataSync()),
      );
    },
  );

  it('writes fused batch norm + ReLU layers as the stock pair, with the same outputs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    const model = buildModel({ model: 'resnet20', numClasses: 3, inputSize: [8, 8], seed: 1 });
    expect(model.getLayer('conv1_bn').getClassName()).toBe('ResNetBatchNormReLU');
    await saveModel(model, dir, { unfuseBatchNormRelu: true });
    const text = await readFile(path.join(dir, 'model.json'), 'utf8');
    expect(text).not.toContain('ResNetBatchNormReLU');
    const loaded = await tfl.loadLayersModel(fileSystem(dir));
    expect(loaded.getLayer('conv1_bn').getClassName()).toBe('BatchNormalization');
    expect(loaded.getLayer('conv1_relu').getClassName()).toBe('Activation');
    expect(loaded.getLayer('conv2_block1_1_relu').getClassName()).toBe('Activation');
    expect(loaded.layers.length).toBe(model.layers.length + 10); // conv1 + one per block
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  });

  it('refuses to unfuse a batch norm + ReLU layer that the model calls twice', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    const input = tfl.input({ shape: [4, 4, 2] });
    const shared = new BatchNormReLU({ name: 'shared_bn' });
    const twice = shared.apply(shared.apply(input)) as tfl.SymbolicTensor;
    await expect(
      saveModel(tfl.model({ inputs: input, outputs: twice }), dir, { unfuseBatchNormRelu: true }),
    ).rejects.toThrow('shared_bn: a ResNetBatchNormReLU layer called more than once cannot be saved unfused');
  });

  it('names the file when weights are missing or truncated', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    await saveModel(tinyModel(), dir);
    await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(8));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/weights hold 8 bytes.*damaged/);
    await expect(tfl.loadLayersModel(fileSystem(path.join(dir, 'nope')))).rejects.toThrow(
      /model.json: does not exist/,
    );
  });

  it('records a SHA-256 of the weights and refuses weights replaced by other bytes of the same size', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    await saveModel(tinyModel(), dir);
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.weightsSha256['weights.bin']).toMatch(/^[0-9a-f]{64}$/);
    const weights = path.join(dir, 'weights.bin');
    const { size } = await stat(weights);
    await writeFile(weights, randomBytes(size));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(
      `${weights}: its SHA-256 differs from the one recorded in ${path.join(dir, 'model.json')} when the model was saved; the weights are damaged or were replaced`,
    );
  });

  it('loads a model saved before checksums were recorded', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    const model = tinyModel();
    await saveModel(model, dir);
    const file = path.join(dir, 'model.json');
    const { userDefinedMetadata: _, ...old } = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify(old));
    const loaded = await tfl.loadLayersModel(fileSystem(dir));
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  });

  it('loadModel: replaced weights, and a directory that does not exist or holds no model, are named', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'io-'));
    const dir = path.join(root, 'model');
    const preprocessing = { inputSize: [4, 4], eval: { steps: [] } } as never;
    await exportModel(dir, tinyModel(), ['a', 'b'], preprocessing);
    expect((await loadModel(dir)).labels).toEqual(['a', 'b']);
    const weights = path.join(dir, 'weights.bin');
    await writeFile(weights, randomBytes((await stat(weights)).size));
    await expect(loadModel(root)).rejects.toThrow(`${weights}: its SHA-256 differs`);
    await expect(loadModel(path.join(root, 'nope'))).rejects.toThrow(
      `${path.join(root, 'nope')}: the model directory does not exist`,
    );
    await mkdir(path.join(root, 'empty'));
    await expect(loadModel(path.join(root, 'empty'))).rejects.toThrow(/empty: holds no model/);
  });
});
