import { SGD_UPDATE_KERNEL } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import { Optimizer, type OptimizerConfig } from './optim';
import { testBackend } from './testing/backend';

beforeAll(() => tf.setBackend('cpu'));

function parameters() {
  return [
    { name: 'conv/kernel', variable: tf.variable(tf.tensor2d([[1, -2]]), true) },
    { name: 'bn/gamma', variable: tf.variable(tf.tensor1d([1, 1]), true) },
  ];
}

function run(config: OptimizerConfig, steps: number, lr = 0.1) {
  const params = parameters();
  const optimizer = new Optimizer(config, params);
  for (let s = 0; s < steps; s++) {
    const grads = [tf.tensor2d([[0.5, 0.5]]), tf.tensor1d([1, -1])];
    optimizer.apply(grads, lr);
    tf.dispose(grads);
  }
  const values = params.map((p) => Array.from(p.variable.dataSync()));
  return { params, optimizer, values };
}

describe('Optimizer', () => {
  it('SGD with momentum: v = μv + g, p -= lr·v', () => {
    const { values } = run({ name: 'sgd', momentum: 0.9 }, 2);
    // v1 = g, v2 = 1.9 g: p = p0 - 0.1 (1 + 1.9) g
    expect(values[0]![0]).toBeCloseTo(1 - 0.29 * 0.5, 6);
    expect(values[1]).toEqual([expect.closeTo(1 - 0.29, 6), expect.closeTo(1 + 0.29, 6)]);
  });

  it('Nesterov: p -= lr·(g + μv)', () => {
    const { values } = run({ name: 'sgd', momentum: 0.9, nesterov: true }, 1);
    expect(values[0]![0]).toBeCloseTo(1 - 0.1 * 1.9 * 0.5, 6);
  });

  it('decoupled weight decay shrinks kernels by lr·wd but leaves 1-D parameters alone unless asked', () => {
    const plain = run({ name: 'sgd', momentum: 0 }, 1).values;
    const decayed = run({ name: 'sgd', momentum: 0, weightDecay: 0.5 }, 1).values;
    expect(decayed[0]![1]).toBeCloseTo(-2 * (1 - 0.05) - 0.05, 6);
    expect(decayed[1]).toEqual(plain[1]);
    const all = run({ name: 'sgd', momentum: 0, weightDecay: 0.5, decayAll: true }, 1).values;
    expect(all[1]![0]).toBeCloseTo(1 * 0.95 - 0.1, 6);
  });

  it('Adam’s first step moves each weight by lr against the gradient’s sign; AdamW adds decay', () => {
    const adam = run({ name: 'adam' }, 1, 0.01).values;
    expect(adam[0]).toEqual([expect.closeTo(0.99, 5), expect.closeTo(-2.01, 5)]);
    const adamw = run({ name: 'adamw', weightDecay: 0.1 }, 1, 0.01).values;
    expect(adamw[0]![0]).toBeCloseTo(1 * (1 - 0.001) - 0.01, 5);
  });

  it('saves and restores its state so training continues identically', () => {
    const reference = run({ name: 'sgd', momentum: 0.9, nesterov: true }, 3).values;
    const first = run({ name: 'sgd', momentum: 0.9, nesterov: true }, 2);
    const state = first.optimizer.getState();
    const params = parameters();
    for (const [i, p] of params.entries()) (p.variable as tf.Variable).assign(first.params[i]!.variable);
    const resumed = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true }, params);
    resumed.setState(state);
    const grads = [tf.tensor2d([[0.5, 0.5]]), tf.tensor1d([1, -1])];
    resumed.apply(grads, 0.1);
    expect(params.map((p) => Array.from(p.variable.dataSync()))).toEqual(reference);
    expect(() => resumed.setState({ iterations: 1, slots: { 'nope/momentum': tf.zeros([1]) } })).toThrow(
      /matches no parameter/,
    );
  });

  it('lrMult scales one parameter’s learning rate (weight decay too); 0 keeps it as it was', async () => {
    await testBackend(); // the fused SGD kernel where the onednn addon is built
    try {
      const configs: OptimizerConfig[] = [
        { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-3 },
        { name: 'sgd', momentum: 0, weightDecay: 5e-3 },
        { name: 'adamw', weightDecay: 5e-3 },
        { name: 'adam', weightDecay: 5e-3 },
      ];
      for (const config of configs) {
        const steps = (lr: number, lrMult?: number) => {
          const parameter = {
            name: 'predictions/kernel',
            variable: tf.variable(tf.tensor2d([[1, -2, 0.5]]), true),
            lrMult,
          };
          const optimizer = new Optimizer(config, [parameter]);
          for (let s = 0; s < 3; s++) {
            const gradient = tf.tensor2d([[0.5, -0.25, 1 + s]]);
            optimizer.apply([gradient], lr);
            gradient.dispose();
          }
          const values = Array.from(parameter.variable.dataSync());
          optimizer.dispose();
          parameter.variable.dispose();
          return values;
        };
        expect(steps(0.05, 2)).toEqual(steps(0.1));
        expect(steps(0.1, 2)).not.toEqual(steps(0.1));
        expect(steps(0.1, 0)).toEqual([1, -2, 0.5]);
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('takes the backend’s fused SGD kernel when there is one, with the same result to the bit', async () => {
    const backend = await testBackend();
    try {
      const kernel = tf.getKernel(SGD_UPDATE_KERNEL, backend);
      if (!kernel) {
        console.warn(
          `skipped: the ${backend} backend has no ${SGD_UPDATE_KERNEL} kernel (onednn addon not built)`,
        );
        return;
      }
      const config: OptimizerConfig = { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-3 };
      const fused = run(config, 3).values;
      tf.unregisterKernel(SGD_UPDATE_KERNEL, backend);
      try {
        expect(run(config, 3).values).toEqual(fused);
      } finally {
        tf.registerKernel(kernel);
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
