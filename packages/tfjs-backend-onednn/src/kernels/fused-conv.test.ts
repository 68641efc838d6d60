import { FUSED_CONV2D_KERNEL } from '@resnet-ts/resnet-core/kernel-names';
import * as tf from '@tensorflow/tfjs-core';
import { setConvLayout } from '../index';
import { describeNative, relativeError, seededTensor } from '../testing';

// The same bound as the other convolutions' (norm-wise relative error against tfjs's cpu ops).
const TOLERANCE = 1e-4;

interface Case {
  name: string;
  x: [number, number, number, number];
  kernel: number;
  outChannels: number;
  stride: number;
  /** 'same', 'valid' or [[top, bottom], [left, right]] zeros added first. */
  pad: 'same' | 'valid' | [[number, number], [number, number]];
  activation: 'linear' | 'relu';
  bias: boolean;
  /** The shortcut's shape, its subsampling stride and zero channels before it. */
  shortcut?: { shape: [number, number, number, number]; stride: number; before: number };
}

const cases: Case[] = [
  {
    name: 'identity shortcut + ReLU (a basic block’s second convolution)',
    x: [2, 8, 8, 16],
    kernel: 3,
    outChannels: 16,
    stride: 1,
    pad: 'same',
    activation: 'relu',
    bias: true,
    shortcut: { shape: [2, 8, 8, 16], stride: 1, before: 0 },
  },
  {
    name: 'option A shortcut: subsampled, zero channels either side',
    x: [2, 5, 5, 32],
    kernel: 3,
    outChannels: 32,
    stride: 1,
    pad: 'same',
    activation: 'relu',
    bias: true,
    shortcut: { shape: [2, 9, 9, 16], stride: 2, before: 8 },
  },
  {
    name: 'projection-style 1x1 with a shortcut, batch 1',
    x: [1, 7, 7, 24],
    kernel: 1,
    outChannels: 40,
    stride: 1,
    pad: 'valid',
    activation: 'relu',
    bias: true,
    shortcut: { shape: [1, 7, 7, 40], stride: 1, before: 0 },
  },
  {
    name: 'shortcut, no activation, no bias (pre-activation block)',
    x: [2, 6, 6, 8],
    kernel: 3,
    outChannels: 8,
    stride: 1,
    pad: 'same',
    activation: 'linear',
    bias: false,
    shortcut: { shape: [2, 6, 6, 8], stride: 1, before: 0 },
  },
  {
    name: 'explicit padding of a strided 7x7 stem + ReLU, no shortcut',
    x: [2, 20, 18, 3],
    kernel: 7,
    outChannels: 8,
    stride: 2,
    pad: [
      [3, 3],
      [3, 3],
    ],
    activation: 'relu',
    bias: true,
  },
  {
    name: 'asymmetric explicit padding, strided 3x3',
    x: [2, 9, 10, 5],
    kernel: 3,
    outChannels: 6,
    stride: 2,
    pad: [
      [0, 1],
      [1, 0],
    ],
    activation: 'linear',
    bias: true,
  },
];

/** The kernel's inputs for a case: x, filter, bias and shortcut from seeded values. */
function inputs(c: Case, seed: number): tf.NamedTensorMap {
  const map: tf.NamedTensorMap = {
    x: seededTensor(c.x, seed),
    filter: seededTensor([c.kernel, c.kernel, c.x[3], c.outChannels], seed + 1),
  };
  if (c.bias) map.bias = seededTensor([c.outChannels], seed + 2);
  if (c.shortcut) map.shortcut = seededTensor(c.shortcut.shape, seed + 3);
  return map;
}

/** What the kernel must compute, in tfjs ops: pad, conv + bias, subsample and pad the shortcut, add, activation. */
function reference(c: Case, t: tf.NamedTensorMap): tf.Tensor {
  const padded = Array.isArray(c.pad) ? tf.pad(t.x!, [[0, 0], ...c.pad, [0, 0]]) : t.x!;
  const y = tf.fused.conv2d({
    x: padded as tf.Tensor4D,
    filter: t.filter as tf.Tensor4D,
    strides: c.stride,
    pad: Array.isArray(c.pad) ? 'valid' : c.pad,
    bias: t.bias,
    activation: c.shortcut ? 'linear' : c.activation,
  });
  if (!c.shortcut) return y;
  let s = t.shortcut as tf.Tensor4D;
  if (c.shortcut.stride > 1) s = tf.avgPool(s, 1, c.shortcut.stride, 'valid');
  const after = c.outChannels - c.shortcut.before - c.shortcut.shape[3];
  s = tf.pad(s, [
    [0, 0],
    [0, 0],
    [0, 0],
    [c.shortcut.before, after],
  ]);
  const sum = tf.add(s, y);
  return c.activation === 'relu' ? tf.relu(sum) : sum;
}

function fused(c: Case, t: tf.NamedTensorMap): tf.Tensor {
  return tf.engine().runKernel(FUSED_CONV2D_KERNEL, t, {
    strides: [c.stride, c.stride],
    pad: Array.isArray(c.pad) ? [[0, 0], ...c.pad, [0, 0]] : c.pad,
    dilations: [1, 1],
    activation: c.activation,
    shortcutStrides: c.shortcut?.stride ?? 1,
    shortcutChannelsBefore: c.shortcut?.before ?? 0,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The kernel on onednn against the reference ops on cpu. */
async function errorOf(c: Case, seed: number): Promise<number> {
  await tf.setBackend('cpu');
  const expected = tf.tidy(() => reference(c, inputs(c, seed)));
  const want = Float32Array.from(expected.dataSync());
  expected.dispose();
  await tf.setBackend('onednn');
  const actual = tf.tidy(() => fused(c, inputs(c, seed)));
  const got = Float32Array.from(actual.dataSync());
  expect(actual.shape).toEqual(expected.shape);
  actual.dispose();
  return relativeError(got, want);
}

// Inference only: the kernel has no gradient (resnet-core's layer runs tfjs ops when training).
describeNative('ResNetFusedConv2D (inference)', () => {
  afterEach(() => setConvLayout('timed'));

  it.each(cases.map((c) => [c.name, c] as const))('%s agrees with cpu', async (_name, c) => {
    expect(await errorOf(c, 11)).toBeLessThan(TOLERANCE);
  });

  it.each(['plain', 'blocked'] as const)(
    'agrees with cpu with %s layouts (the shortcut is staged into a blocked output too)',
    async (layout) => {
      setConvLayout(layout);
      for (const c of cases.slice(0, 2)) expect(await errorOf(c, 21)).toBeLessThan(TOLERANCE);
    },
  );

  it('uses each call’s weights: reordered weights are kept only for the same tensor', async () => {
    const c = cases[0]!;
    const run = (op: (c: Case, t: tf.NamedTensorMap) => tf.Tensor) =>
      tf.tidy(() => {
        const t = inputs(c, 31);
        // Same shape, so the same cached primitive: the second filter must not reuse the first's.
        const other = { ...t, filter: seededTensor(t.filter!.shape, 99) };
        return [op(c, t), op(c, other), op(c, t)].map((y) => Float32Array.from(y.dataSync()));
      });
    await tf.setBackend('cpu');
    const expected = run(reference);
    await tf.setBackend('onednn');
    const actual = run(fused);
    for (const [i, want] of expected.entries()) {
      expect(relativeError(actual[i]!, want)).toBeLessThan(TOLERANCE);
    }
  });

  it('rejects a shortcut that does not fit the output', async () => {
    await tf.setBackend('onednn');
    const c: Case = { ...cases[0]!, shortcut: { shape: [2, 8, 8, 8], stride: 1, before: 12 } };
    expect(() => tf.tidy(() => fused(c, inputs(c, 41)))).toThrow('shortcut');
  });
});
