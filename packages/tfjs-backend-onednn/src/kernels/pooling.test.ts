import * as tf from '@tensorflow/tfjs-core';
import '../index';
import { compareWithCpu, describeNative, seededValues } from '../testing';

const TOLERANCE = 1e-5;

const cases: [string, [number, number, number, number], number, number, 'same' | 'valid'][] = [
  ['ResNet stem 3x3/2', [2, 12, 12, 8], 3, 2, 'valid'],
  ['odd size, same', [1, 9, 7, 5], 3, 2, 'same'],
  ['2x2/2', [3, 8, 8, 4], 2, 2, 'valid'],
  ['option A 1x1/2', [4, 16, 16, 16], 1, 2, 'valid'],
  ['stride 1 same', [2, 6, 6, 3], 3, 1, 'same'],
];

describeNative('pooling', () => {
  for (const kind of ['max', 'avg'] as const) {
    it.each(cases)(
      `${kind} pool %s agrees with cpu, forward and gradient`,
      async (_label, shape, size, stride, pad) => {
        const errors = await compareWithCpu(() => {
          // Distinct values, so max-pool ties (where implementations may pick different inputs) are impossible.
          const values = seededValues(
            11,
            shape.reduce((a, b) => a * b, 1),
          ).map((v, i) => v + i * 1e-3);
          const x = tf.tensor4d(values, shape);
          const pool = (t: tf.Tensor) =>
            kind === 'max'
              ? tf.maxPool(t as tf.Tensor4D, size, stride, pad)
              : tf.avgPool(t as tf.Tensor4D, size, stride, pad);
          const y = pool(x);
          const dy = tf.tensor(seededValues(12, y.size), y.shape);
          return [y, tf.grad(pool)(x, dy)];
        });
        expect(errors[0]).toBeLessThan(TOLERANCE);
        expect(errors[1]).toBeLessThan(TOLERANCE);
      },
    );
  }
});
