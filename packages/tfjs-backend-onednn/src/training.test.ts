import { buildResNet } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import './index';
import { describeNative, relativeError, seededValues } from './testing';

/** One SGD-momentum step of a seeded ResNet on `backend`: the loss and every updated weight. */
async function trainStep(backend: string, depth: number, size: number, batch: number) {
  await tf.setBackend(backend);
  const model = buildResNet({
    depth,
    numClasses: 10,
    inputShape: [size, size, 3],
    seed: 5,
    zeroInitResidual: false,
  });
  model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
  const x = tf.tensor4d(seededValues(1, batch * size * size * 3), [batch, size, size, 3]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const loss = (await model.trainOnBatch(x, y)) as number;
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  tf.dispose([x, y]);
  model.dispose();
  return { loss, weights };
}

describeNative('training on onednn', () => {
  it('a ResNet-20 training step gives the cpu backend’s loss and updated weights', async () => {
    // Small batch and image so the pure-JS reference stays quick.
    const cpu = await trainStep('cpu', 20, 12, 2);
    const onednn = await trainStep('onednn', 20, 12, 2);
    expect(Math.abs(onednn.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-4);
    expect(onednn.weights).toHaveLength(cpu.weights.length);
    const worst = Math.max(...cpu.weights.map((w, i) => relativeError(onednn.weights[i]!, w)));
    expect(worst).toBeLessThan(1e-4);
  });

  it('leaks neither tensors nor memory over 100 training steps', async () => {
    await tf.setBackend('onednn');
    const model = buildResNet({ depth: 8, numClasses: 10, inputShape: [16, 16, 3], seed: 2 });
    model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
    const x = tf.tensor4d(seededValues(3, 16 * 16 * 16 * 3), [16, 16, 16, 3]);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 10),
        'int32',
      ),
      10,
    );
    const step = () => model.trainOnBatch(x, y);
    for (let i = 0; i < 20; i++) await step(); // optimizer slots and caches settle
    const tensors = tf.memory().numTensors;
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 100; i++) await step();
    expect(tf.memory().numTensors).toBe(tensors);
    // Garbage collection is not deterministic: allow slack, but not a per-step leak of a batch.
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('runs tfjs-layers models saved with option A shortcuts', async () => {
    await tf.setBackend('onednn');
    const model = buildResNet({ depth: 20, numClasses: 10, seed: 1 });
    const out = tf.tidy(() => (model.predict(tf.ones([2, 32, 32, 3])) as tf.Tensor).dataSync());
    expect(out).toHaveLength(20);
    expect(tfl.version_layers).toBeDefined();
    model.dispose();
  });
});
