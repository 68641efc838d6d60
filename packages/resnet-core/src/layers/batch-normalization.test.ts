import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ResNetConfig } from '../config';
import { BATCH_NORM_RELU_TRAINING_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '../kernel-names';
import { buildResNet } from '../resnet';
import { seededUniform } from '../test-random';
import { BatchNormalization, BatchNormReLU } from './batch-normalization';

const weightNames = (model: tfl.LayersModel) => model.weights.map((w) => w.originalName);

describe('fuseBatchNormRelu', () => {
  it('replaces each batch norm + ReLU pair by one layer with the batch norm’s name and weights', () => {
    for (const preactivation of [false, true]) {
      const config: ResNetConfig = {
        depth: 18,
        numClasses: 5,
        inputShape: [32, 32, 3],
        preactivation,
        seed: 4,
      };
      const plain = buildResNet(config);
      const fused = buildResNet({ ...config, fuseBatchNormRelu: true });
      const fusedLayers = fused.layers.filter((layer) => layer instanceof BatchNormReLU);
      const pairs = plain.layers.filter(
        (layer) =>
          layer.getClassName() === 'Activation' &&
          layer.inboundNodes[0]?.inboundLayers[0]?.getClassName() === 'BatchNormalization',
      );
      expect(fusedLayers.length).toBe(pairs.length);
      expect(fusedLayers.length).toBeGreaterThan(0);
      expect(fused.layers.length).toBe(plain.layers.length - pairs.length);
      expect(fused.getLayer('conv2_block1_1_bn').getClassName()).toBe('ResNetBatchNormReLU');
      expect(() => fused.getLayer('conv2_block1_1_relu')).toThrow();
      // The weight-file contract is unchanged.
      expect(weightNames(fused)).toEqual(weightNames(plain));
      plain.dispose();
      fused.dispose();
    }
  });

  it('computes what batch norm then ReLU computes, in training and inference, and survives a save', async () => {
    const config: ResNetConfig = { depth: 20, numClasses: 10, inputShape: [16, 16, 3], seed: 5 };
    const plain = buildResNet(config);
    const fused = buildResNet({ ...config, fuseBatchNormRelu: true });
    const x = tf.tensor4d(seededUniform(6, 4 * 16 * 16 * 3), [4, 16, 16, 3]);
    for (const training of [true, false]) {
      const [a, b] = tf.tidy(() => [
        (plain.apply(x, { training }) as tf.Tensor).dataSync(),
        (fused.apply(x, { training }) as tf.Tensor).dataSync(),
      ]);
      expect(Array.from(b!)).toEqual(Array.from(a!));
    }
    let saved: tf.io.ModelArtifacts | undefined;
    await fused.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(
      tf.io.fromMemory({ ...saved!, modelTopology: JSON.parse(JSON.stringify(saved!.modelTopology)) }),
    );
    expect(loaded.getLayer('conv1_bn')).toBeInstanceOf(BatchNormReLU);
    const [expected, actual] = tf.tidy(() => [
      (fused.predict(x) as tf.Tensor).dataSync(),
      (loaded.predict(x) as tf.Tensor).dataSync(),
    ]);
    expect(Array.from(actual!)).toEqual(Array.from(expected!));
    tf.dispose(x);
    for (const model of [plain, fused, loaded]) model.dispose();
  });
});

describe('a frozen batch norm (trainable = false)', () => {
  /** Fake fused training kernels on the cpu backend that count their calls (outputs: zeros). */
  function withCountingKernels(run: (calls: Map<string, number>) => void): void {
    const calls = new Map<string, number>();
    const names = [BATCH_NORM_TRAINING_KERNEL, BATCH_NORM_RELU_TRAINING_KERNEL];
    for (const kernelName of names) {
      tf.registerKernel({
        kernelName,
        backendName: 'cpu',
        kernelFunc: ({ inputs, backend }) => {
          calls.set(kernelName, (calls.get(kernelName) ?? 0) + 1);
          const x = inputs.x as tf.TensorInfo;
          const channels = x.shape[x.shape.length - 1] as number;
          const cpu = backend as unknown as {
            makeTensorInfo: (shape: number[], dtype: string, values: Float32Array) => tf.TensorInfo;
          };
          return [
            cpu.makeTensorInfo(x.shape, 'float32', new Float32Array(tf.util.sizeFromShape(x.shape))),
            cpu.makeTensorInfo([channels], 'float32', new Float32Array(channels)),
            cpu.makeTensorInfo([channels], 'float32', new Float32Array(channels).fill(1)),
          ];
        },
      });
    }
    try {
      run(calls);
    } finally {
      for (const kernelName of names) tf.unregisterKernel(kernelName, 'cpu');
    }
  }

  it('normalises with its moving statistics in training, leaves them alone, and runs no training kernel', () => {
    for (const Layer of [BatchNormalization, BatchNormReLU]) {
      const layer = new Layer({ axis: -1, momentum: 0.9, name: `frozen_${Layer.className}` });
      const x = tf.tensor4d(seededUniform(11, 2 * 4 * 4 * 3), [2, 4, 4, 3]);
      layer.apply(x); // builds it
      layer.setWeights([
        tf.tensor1d([1.5, 0.5, 2]),
        tf.tensor1d([0.1, -0.2, 0.3]),
        tf.tensor1d([0.4, 0.5, 0.6]),
        tf.tensor1d([0.2, 0.3, 0.4]),
      ]);
      const before = layer.getWeights().map((w) => Array.from(w.dataSync()));
      const inference = (layer.apply(x, { training: false }) as tf.Tensor).dataSync();
      withCountingKernels((calls) => {
        // Trainable: the fused training kernel runs (the fake one here) and the statistics move.
        tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
        expect([...calls.values()].reduce((a, b) => a + b, 0)).toBe(1);
        expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(before);
        layer.setWeights(before.map((values) => tf.tensor1d(values)));
        calls.clear();
        layer.trainable = false;
        const frozen = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
        expect(calls.size).toBe(0);
        expect(Array.from(frozen)).toEqual(Array.from(inference));
        expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
      });
      // Without the fused kernels (the stock tfjs-layers path) a frozen layer is in inference mode too.
      const stock = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
      expect(Array.from(stock)).toEqual(Array.from(inference));
      expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
      layer.trainable = true;
      tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
      expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(before);
      tf.dispose(x);
    }
  });

  it('in a model: frozen layers leave trainableWeights, and their statistics stay in training', () => {
    const model = buildResNet({
      depth: 8,
      numClasses: 3,
      inputShape: [8, 8, 3],
      seed: 2,
      fuseBatchNormRelu: true,
    });
    const frozen = model.layers.filter((layer) => /^conv(1|2)_/.test(layer.name));
    for (const layer of frozen) layer.trainable = false;
    const frozenNames = new Set(frozen.flatMap((layer) => layer.weights.map((w) => w.originalName)));
    const trainable = model.trainableWeights.map((w) => w.originalName);
    expect(trainable.some((name) => frozenNames.has(name))).toBe(false);
    expect(trainable).toContain('conv3_block1_1_bn/gamma');
    const snapshot = () =>
      new Map(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
    const before = snapshot();
    const x = tf.tensor4d(seededUniform(12, 4 * 8 * 8 * 3), [4, 8, 8, 3]);
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    const after = snapshot();
    for (const name of frozenNames) expect(after.get(name)).toEqual(before.get(name));
    expect(after.get('conv3_block1_1_bn/moving_mean')).not.toEqual(
      before.get('conv3_block1_1_bn/moving_mean'),
    );
    tf.dispose(x);
    model.dispose();
  });
});
