import * as tf from '@tensorflow/tfjs-core';
import '../index';
import { SGD_UPDATE_KERNEL } from '@resnet-ts/resnet-core/kernel-names';
import { describeNative, seededTensor } from '../testing';

const t = seededTensor;

/** The same step as a chain of tfjs ops (what @resnet-ts/train runs without the kernel). */
function chain(
  p: tf.Tensor,
  g: tf.Tensor,
  v: tf.Tensor | undefined,
  lr: number,
  momentum: number,
  nesterov: boolean,
  keep: number,
) {
  return tf.tidy(() => {
    let direction = g;
    let velocity: tf.Tensor | undefined;
    if (v) {
      velocity = tf.add(tf.mul(v, momentum), g);
      direction = nesterov ? tf.add(g, tf.mul(velocity, momentum)) : velocity;
    }
    const kept = keep === 1 ? p : tf.mul(p, keep);
    const param = tf.sub(kept, tf.mul(direction, lr));
    return velocity ? [param, velocity] : [param];
  });
}

describeNative('ResNetSgdUpdate', () => {
  beforeAll(async () => {
    await tf.setBackend('onednn');
  });

  it.each([
    ['momentum', [3, 3, 16, 16], true, false, 1],
    ['Nesterov with decoupled decay', [3, 3, 16, 16], true, true, 1 - 0.1 * 5e-3],
    ['plain SGD on a bias', [17], false, false, 1],
    ['a vector long enough to run on every thread', [140_001], true, true, 0.9995],
  ] as const)('%s equals the chain of float32 ops exactly', (_, shape, withVelocity, nesterov, keep) => {
    const p = t([...shape], 1);
    const g = t([...shape], 2);
    const v = withVelocity ? t([...shape], 3) : undefined;
    const attrs = { lr: 0.1, momentum: 0.9, nesterov, keep };
    const inputs: tf.NamedTensorMap = v ? { param: p, grad: g, velocity: v } : { param: p, grad: g };
    const fused = tf
      .engine()
      .runKernel(SGD_UPDATE_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    const expected = chain(p, g, v, attrs.lr, attrs.momentum, nesterov, keep);
    expect(fused).toHaveLength(expected.length);
    for (const [i, e] of expected.entries()) {
      expect(Array.from(fused[i]!.dataSync())).toEqual(Array.from(e.dataSync()));
    }
    tf.dispose([p, g, ...(v ? [v] : []), ...fused, ...expected]);
  });

  it('names the problem when shapes differ', () => {
    const p = t([4], 1);
    const g = t([5], 2);
    expect(() =>
      tf
        .engine()
        .runKernel(
          SGD_UPDATE_KERNEL,
          { param: p, grad: g },
          { lr: 0.1, momentum: 0, nesterov: false, keep: 1 },
        ),
    ).toThrow('ResNetSgdUpdate: expected float32 param, grad and velocity of one shape');
    tf.dispose([p, g]);
  });
});
