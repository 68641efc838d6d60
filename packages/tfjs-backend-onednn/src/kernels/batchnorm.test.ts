import { BatchNormalization, BatchNormReLU } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '../index';
import { compareWithCpu, describeNative, relativeError, seededTensor } from '../testing';

const TOLERANCE = 1e-4;
const t = seededTensor;

describeNative('FusedBatchNorm', () => {
  const bn = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s?: tf.Tensor, o?: tf.Tensor) =>
    tf.batchNorm(
      x,
      m as tf.Tensor1D,
      v as tf.Tensor1D,
      o as tf.Tensor1D | undefined,
      s as tf.Tensor1D | undefined,
      1e-3,
    );
  const vectors = (channels: number) => ({
    mean: t([channels], 2),
    variance: t([channels], 3, 1.5), // positive
    scale: t([channels], 4, 1),
    offset: t([channels], 5),
  });

  it.each([[[4, 5, 5, 8]], [[64, 10]], [[2, 3, 3, 16]]])(
    'x %j agrees with cpu, forward and every gradient',
    async (shape) => {
      const errors = await compareWithCpu(() => {
        const x = t(shape, 1);
        const { mean, variance, scale, offset } = vectors(shape[shape.length - 1]!);
        const y = bn(x, mean, variance, scale, offset);
        const grads = tf.grads((a, m, v, s, o) => bn(a, m, v, s, o))(
          [x, mean, variance, scale, offset],
          t(y.shape, 6),
        );
        return [y, ...grads];
      });
      for (const e of errors) expect(e).toBeLessThan(TOLERANCE);
    },
  );

  // (tfjs cannot differentiate batchNorm without an offset on any backend, so forward only here.)
  it.each([
    ['scale only', true, false],
    ['offset only', false, true],
    ['neither', false, false],
  ])('with %s agrees with cpu', async (_label, withScale, withOffset) => {
    const errors = await compareWithCpu(() => {
      const { mean, variance, scale, offset } = vectors(8);
      return bn(
        t([3, 4, 4, 8], 1),
        mean,
        variance,
        withScale ? scale : undefined,
        withOffset ? offset : undefined,
      );
    });
    expect(errors[0]).toBeLessThan(TOLERANCE);
  });

  it('a BatchNormalization layer trains identically on both backends', async () => {
    const tfl = await import('@tensorflow/tfjs-layers');
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const layer = tfl.layers.batchNormalization({
          momentum: 0.9,
          gammaInitializer: tfl.initializers.randomNormal({ seed: 3 }),
        });
        const x = t([8, 4, 4, 6], 7, 0.5);
        // A random weighting, so no gradient is zero by symmetry (sum(y) would make beta's vanish).
        const weights = t([8, 4, 4, 6], 8);
        const f = (a: tf.Tensor) =>
          tf.sum(tf.mul(tf.square(layer.apply(a, { training: true }) as tf.Tensor), weights));
        f(x); // builds the weights
        const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => f(x) as tf.Scalar, variables);
        return [value.dataSync()[0]!, ...Object.values(grads).map((g) => Array.from(g.dataSync()))];
      });
    };
    const cpu = await run('cpu');
    const onednn = await run('onednn');
    expect(onednn[0]).toBeCloseTo(cpu[0] as number, 3);
    for (let i = 1; i < cpu.length; i++) {
      const a = onednn[i] as number[];
      const b = cpu[i] as number[];
      const scale = Math.max(...b.map(Math.abs), 1e-6);
      expect(Math.max(...a.map((v, j) => Math.abs(v - b[j]!))) / scale).toBeLessThan(TOLERANCE);
    }
  });

  /**
   * Trains one batch-norm layer for a step on `backend` and returns its output, loss, gradients
   * (weights and input) and weights after the moving-average updates.
   */
  async function trainOneStep(
    backend: string,
    makeLayer: (args: ConstructorParameters<typeof BatchNormalization>[0]) => tfl.layers.Layer,
    activation: (y: tf.Tensor) => tf.Tensor,
    shape: number[],
  ): Promise<Float32Array[]> {
    const { initializers } = await import('@tensorflow/tfjs-layers');
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const layer = makeLayer({
        momentum: 0.8,
        epsilon: 1e-3,
        gammaInitializer: initializers.randomNormal({ seed: 3, stddev: 1 }),
        betaInitializer: initializers.randomNormal({ seed: 4, stddev: 0.5 }),
      });
      const x = t(shape, 7, 0.5);
      const weights = t(shape, 8);
      const forward = (a: tf.Tensor) => activation(layer.apply(a, { training: true }) as tf.Tensor);
      const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.square(forward(a)), weights));
      f(x); // builds the weights and updates the moving averages once
      const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => f(x) as tf.Scalar, variables);
      const dx = tf.grad(f)(x);
      return [
        Float32Array.from(forward(x).dataSync()),
        Float32Array.of(value.dataSync()[0]!),
        ...Object.values(grads).map((g) => Float32Array.from(g.dataSync())),
        Float32Array.from(dx.dataSync()),
        ...layer.getWeights().map((w) => Float32Array.from(w.dataSync())), // moving mean and variance too
      ];
    });
  }

  const stock = async () => (await import('@tensorflow/tfjs-layers')).layers.batchNormalization;
  const identity = (y: tf.Tensor) => y;

  it('resnet-core’s BatchNormalization takes the fused kernel and matches the stock layer on cpu', async () => {
    expect(tf.getKernel('ResNetBatchNormTraining', 'onednn')).toBeDefined();
    const expected = await trainOneStep('cpu', await stock(), identity, [8, 5, 5, 6]);
    const actual = await trainOneStep(
      'onednn',
      (args) => new BatchNormalization(args),
      identity,
      [8, 5, 5, 6],
    );
    expect(actual).toHaveLength(expected.length);
    for (const [i, e] of expected.entries()) expect(relativeError(actual[i]!, e)).toBeLessThan(TOLERANCE);
  });

  it('resnet-core’s BatchNormReLU takes the fused kernel and matches batch norm then ReLU on cpu', async () => {
    expect(tf.getKernel('ResNetBatchNormReluTraining', 'onednn')).toBeDefined();
    // Odd sizes (7 channels, 3 x 5 x 5 rows) so no vector loop divides them evenly.
    const expected = await trainOneStep('cpu', await stock(), (y) => tf.relu(y), [3, 5, 5, 7]);
    const actual = await trainOneStep('onednn', (args) => new BatchNormReLU(args), identity, [3, 5, 5, 7]);
    expect(actual).toHaveLength(expected.length);
    // The ReLU really cut something: some outputs are zero, some positive.
    expect(expected[0]!.some((v) => v === 0) && expected[0]!.some((v) => v > 0)).toBe(true);
    for (const [i, e] of expected.entries()) expect(relativeError(actual[i]!, e)).toBeLessThan(TOLERANCE);
  });
});
