import * as tf from '@tensorflow/tfjs-core';
import '../index';
import { compareWithCpu, describeNative, seededTensor } from '../testing';

const TOLERANCE = 1e-4;
const t = seededTensor;

describeNative('matMul', () => {
  it.each([
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[4, 7, 5], [4, 5, 3], false, false],
    [[4, 7, 5], [1, 5, 3], false, false],
    [[32, 2048], [2048, 100], false, false],
  ] as [number[], number[], boolean, boolean][])(
    '%j × %j (transposeA %s, transposeB %s) agrees with cpu, with gradients',
    async (as, bs, ta, tb) => {
      const errors = await compareWithCpu(() => {
        const a = t(as, 1);
        const b = t(bs, 2);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb);
        const y = f(a, b);
        // tfjs's BatchMatMul gradient does not reduce a broadcast batch (on any backend).
        if (as.length > 2 && as[0] !== bs[0]) return [y];
        return [y, ...tf.grads(f)([a, b], t(y.shape, 3))];
      });
      for (const e of errors) expect(e).toBeLessThan(TOLERANCE);
    },
  );

  it.each(['linear', 'relu', 'sigmoid', 'prelu'] as const)(
    'fused with bias and %s agrees with cpu',
    async (activation) => {
      const errors = await compareWithCpu(() =>
        tf.fused.matMul({
          a: t([6, 9], 4),
          b: t([9, 5], 5),
          bias: t([5], 6),
          activation,
          preluActivationWeights: activation === 'prelu' ? tf.scalar(0.2) : undefined,
        }),
      );
      expect(errors[0]).toBeLessThan(TOLERANCE);
    },
  );
});
