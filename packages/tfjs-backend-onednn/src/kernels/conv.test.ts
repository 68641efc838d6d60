import * as tf from '@tensorflow/tfjs-core';
import '../index';
import { compareWithCpu, describeNative, seededValues } from '../testing';

const TOLERANCE = 1e-4;

interface Case {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: 'same' | 'valid';
  dilation: number;
}

const cases: Case[] = [];
for (const kernel of [1, 3, 7])
  for (const stride of [1, 2])
    for (const pad of ['same', 'valid'] as const)
      cases.push({
        batch: 2,
        height: 9,
        width: 11,
        inChannels: 5,
        outChannels: 8,
        kernel,
        stride,
        pad,
        dilation: 1,
      });
cases.push({
  batch: 1,
  height: 8,
  width: 8,
  inChannels: 16,
  outChannels: 16,
  kernel: 3,
  stride: 1,
  pad: 'same',
  dilation: 1,
});
cases.push({
  batch: 1,
  height: 13,
  width: 7,
  inChannels: 3,
  outChannels: 4,
  kernel: 3,
  stride: 1,
  pad: 'same',
  dilation: 2,
});
cases.push({
  batch: 3,
  height: 16,
  width: 16,
  inChannels: 32,
  outChannels: 64,
  kernel: 1,
  stride: 2,
  pad: 'valid',
  dilation: 1,
});

const label = (c: Case) =>
  `${c.batch}x${c.height}x${c.width}x${c.inChannels} → ${c.outChannels}, ${c.kernel}x${c.kernel}/${c.stride} ${c.pad}${c.dilation > 1 ? ` dilation ${c.dilation}` : ''}`;

function tensors(c: Case, seed: number) {
  const x = tf.tensor4d(seededValues(seed, c.batch * c.height * c.width * c.inChannels), [
    c.batch,
    c.height,
    c.width,
    c.inChannels,
  ]);
  const w = tf.tensor4d(seededValues(seed + 1, c.kernel * c.kernel * c.inChannels * c.outChannels), [
    c.kernel,
    c.kernel,
    c.inChannels,
    c.outChannels,
  ]);
  return { x, w };
}

describeNative('Conv2D', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s forward agrees with cpu', async (_l, c) => {
    const errors = await compareWithCpu(() => {
      const { x, w } = tensors(c, 1);
      return tf.conv2d(x, w, c.stride, c.pad, 'NHWC', c.dilation);
    });
    expect(Math.max(...errors)).toBeLessThan(TOLERANCE);
  });

  it.each(cases.filter((c) => c.dilation === 1).map((c) => [label(c), c] as const))(
    '%s input and filter gradients agree with cpu',
    async (_l, c) => {
      const errors = await compareWithCpu(() => {
        const { x, w } = tensors(c, 2);
        const outShape = tf.conv2d(x, w, c.stride, c.pad).shape;
        const dy = tf.tensor(
          seededValues(
            9,
            outShape.reduce((a, b) => a * b, 1),
          ),
          outShape,
        );
        const [dx, dw] = tf.grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))(
          [x, w],
          dy,
        );
        return [dx!, dw!];
      });
      expect(errors[0]).toBeLessThan(TOLERANCE);
      expect(errors[1]).toBeLessThan(TOLERANCE);
    },
  );
});

describeNative('FusedConv2D', () => {
  it.each(['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const)(
    'bias + %s agrees with cpu, forward and gradient',
    async (activation) => {
      const c = cases[2]!;
      const errors = await compareWithCpu(() => {
        const { x, w } = tensors(c, 3);
        const bias = tf.tensor1d(seededValues(4, c.outChannels));
        const alpha = activation === 'prelu' ? tf.scalar(0.1) : undefined;
        const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          tf.fused.conv2d({
            x: a as tf.Tensor4D,
            filter: b as tf.Tensor4D,
            strides: c.stride,
            pad: c.pad,
            bias: d as tf.Tensor1D,
            activation,
            preluActivationWeights: alpha,
            leakyreluAlpha: 0.3,
          });
        const y = f(x, w, bias);
        // Gradients only exist for linear/relu/... in tfjs's fused op; skip where it has none.
        if (activation === 'prelu' || activation === 'sigmoid' || activation === 'elu') return [y];
        const [dx, dw, db] = tf.grads(f)([x, w, bias], tf.onesLike(y));
        return [y, dx!, dw!, db!];
      });
      for (const e of errors) expect(e).toBeLessThan(TOLERANCE);
    },
  );
});
