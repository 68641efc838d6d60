import { isOneDnnAvailable } from '@resnet-ts/tfjs-backend-onednn';
import { buildModel, Optimizer, trainStep } from '@resnet-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { cpuFallbackKernels, memoryUsage, setFallbackWarning } from './index';

setFallbackWarning(undefined);
// tfjs's kernel leak check (IS_TEST) misfires on its own softmaxCrossEntropy under tf.grads.
tf.env().set('IS_TEST', false);

function seeded(seed: number, count: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

/** Steps of the trainer's own step function (fused batch norm + ReLU, fused SGD where present). */
async function train(
  backend: string,
  model: string,
  options: Record<string, unknown>,
  size: number,
  steps: number,
) {
  await tf.setBackend(backend);
  // The cpu backend's "install tfjs-node" banner.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  const net = buildModel({ model, numClasses: 10, inputSize: [size, size], seed: 3, options });
  const parameters = net.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable }));
  const optimizer = new Optimizer(
    { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    parameters,
  );
  const batch = 4;
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 3) % 10);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x = seeded(s + 1, batch * size * size * 3);
    const { loss } = trainStep(
      net,
      optimizer,
      parameters.map((p) => p.variable),
      x,
      labels,
      [size, size],
      10,
      0,
      0.05,
    );
    losses.push(loss);
  }
  const weights = net.getWeights().map((w) => Float32Array.from(w.dataSync()));
  net.dispose();
  return { losses, weights };
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let r = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    r += b[i]! ** 2;
  }
  return r === 0 ? Math.sqrt(d) : Math.sqrt(d / r);
}

// Whole networks are checked against the onednn backend (itself tested against the cpu backend
// within 1e-4): the pure-JS cpu backend needs about 35 s for one ResNet-20 step at 16x16. The
// kernels themselves are checked against the cpu backend (self-test.test.ts), and one small
// network here too.
const reference = isOneDnnAvailable() ? 'onednn' : undefined;
if (!reference && process.env.CI === 'true')
  throw new Error('CI: the onednn backend must be built for these tests');
const withReference = reference ? it.each : it.skip.each;

describe('training on the cuda backend', () => {
  it('resnet8 (option A): one trainer step gives the cpu backend’s loss and weights', async () => {
    const cpu = await train('cpu', 'resnet8', { shortcut: 'A' }, 8, 1);
    const cuda = await train('cuda', 'resnet8', { shortcut: 'A' }, 8, 1);
    expect(Math.abs(cuda.losses[0]! - cpu.losses[0]!) / cpu.losses[0]!).toBeLessThan(1e-4);
    const worst = Math.max(...cpu.weights.map((w, i) => relativeError(cuda.weights[i]!, w)));
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);

  withReference([
    ['resnet20', { shortcut: 'A' }, 16],
    ['resnet20', { shortcut: 'B' }, 16],
    ['resnet18', {}, 64],
  ])(
    `%s %j: three trainer steps give the ${reference ?? 'onednn (not built: skipped)'} backend’s losses and weights`,
    async (model, options, size) => {
      const cpu = await train(reference!, model, options, size, 3);
      const cuda = await train('cuda', model, options, size, 3);
      cuda.losses.forEach((loss, i) => {
        expect(Math.abs(loss - cpu.losses[i]!) / cpu.losses[i]!).toBeLessThan(1e-4);
      });
      const worst = Math.max(...cpu.weights.map((w, i) => relativeError(cuda.weights[i]!, w)));
      expect(worst).toBeLessThan(1e-4);
      // Everything a ResNet trains with has a CUDA kernel.
      expect(cpuFallbackKernels()).toEqual([]);
    },
    120_000,
  );

  it('holds steady device memory over 100 steps and stops calling the device allocator', async () => {
    await tf.setBackend('cuda');
    const net = buildModel({
      model: 'resnet8',
      numClasses: 10,
      inputSize: [8, 8],
      seed: 1,
      options: { shortcut: 'A' },
    });
    const parameters = net.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable }));
    const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9 }, parameters);
    const x = seeded(9, 8 * 8 * 8 * 3);
    const labels = Int32Array.from({ length: 8 }, (_, i) => i);
    const step = () =>
      trainStep(
        net,
        optimizer,
        parameters.map((p) => p.variable),
        x,
        labels,
        [8, 8],
        10,
        0,
        0.05,
      );
    for (let i = 0; i < 5; i++) step();
    const before = memoryUsage()!;
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) step();
    const after = memoryUsage()!;
    expect(tf.memory().numTensors).toBe(tensors);
    expect(after.inUseBytes).toBe(before.inUseBytes);
    expect(after.reservedBytes).toBe(before.reservedBytes);
    expect(after.deviceMallocs).toBe(before.deviceMallocs);
    expect(after.cacheHits - before.cacheHits).toBeGreaterThan(100 * 50);
    const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
    expect(memory.numBytesInGPU).toBe(after.inUseBytes);
    net.dispose();
  }, 120_000);
});
