import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ResNetConfig } from '../config';
import { buildResNet } from '../resnet';
import { seededUniform } from '../test-random';
import { BatchNormReLU } from './batch-normalization';

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
