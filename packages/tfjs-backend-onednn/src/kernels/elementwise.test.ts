import * as tf from '@tensorflow/tfjs-core';
import '../index';
import { compareWithCpu, describeNative, seededTensor } from '../testing';
import { collapseReduction } from './elementwise';

const TOLERANCE = 1e-5;
const t = seededTensor;

describeNative('binary ops with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [
      [2, 3, 4, 5],
      [2, 3, 4, 5],
    ],
    [[2, 3, 4, 5], [5]],
    [
      [2, 3, 4, 5],
      [1, 1, 1, 5],
    ],
    [[5], [2, 3, 4, 5]],
    [[2, 3, 4, 5], []],
    [[], [3, 1]],
    [
      [2, 1, 4, 1],
      [1, 3, 1, 5],
    ],
    [
      [4, 1],
      [1, 6],
    ],
    [[64, 300], [300]],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
  ];
  for (const [name, op] of ops) {
    it.each(shapes.map((s) => [JSON.stringify(s[0]), JSON.stringify(s[1]), s] as const))(
      `${name} %s ∘ %s agrees with cpu`,
      async (_a, _b, [as, bs]) => {
        const [error] = await compareWithCpu(() => op(t(as, 1), t(bs, 2)));
        expect(error).toBeLessThan(TOLERANCE);
      },
    );
  }

  it('keeps int32 arithmetic exact through the cpu fallback', async () => {
    await tf.setBackend('onednn');
    const sum = tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.scalar(4, 'int32'));
    expect(sum.dtype).toBe('int32');
    expect(Array.from(sum.dataSync())).toEqual([5, 6, 7]);
  });
});

describeNative('unary ops', () => {
  const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ['relu', tf.relu],
    ['relu6', (x) => tf.relu6(tf.mul(x, 8))],
    ['neg', tf.neg],
    ['square', tf.square],
    ['sqrt', (x) => tf.sqrt(tf.abs(x))],
    ['rsqrt', (x) => tf.rsqrt(tf.add(tf.abs(x), 0.1))],
    ['exp', tf.exp],
    ['log', (x) => tf.log(tf.add(tf.abs(x), 0.1))],
    ['abs', tf.abs],
    ['step', (x) => tf.step(x, 0.3)],
    ['sigmoid', tf.sigmoid],
    ['tanh', tf.tanh],
    ['reciprocal', (x) => tf.reciprocal(tf.add(tf.abs(x), 0.5))],
    ['elu', tf.elu],
  ];
  it.each(ops)('%s agrees with cpu', async (_name, op) => {
    const [error] = await compareWithCpu(() => op(t([3, 50, 700], 3)));
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('relu passes NaN through like the cpu backend', async () => {
    await tf.setBackend('onednn');
    expect(Array.from(tf.relu(tf.tensor1d([Number.NaN, -1, 2])).dataSync())).toEqual([Number.NaN, 0, 2]);
  });
});

describeNative('reductions', () => {
  it('collapses shapes to [outer, reduced, inner] or refuses', () => {
    expect(collapseReduction([8, 4, 4, 16], [0, 1, 2])).toEqual([1, 128, 16]);
    expect(collapseReduction([8, 4, 4, 16], [3])).toEqual([128, 16, 1]);
    expect(collapseReduction([8, 1, 4, 16], [1, 2])).toEqual([8, 4, 16]);
    expect(collapseReduction([8, 4, 4, 16], [0, 2])).toBeUndefined();
  });

  const cases: [number[], number | number[] | undefined, boolean][] = [
    [[128, 8, 8, 16], [0, 1, 2], false],
    [[128, 8, 8, 16], [0, 1, 2], true],
    [[32, 1000], 1, false],
    [[32, 1000], 0, true],
    [[4, 5, 6], 1, false],
    [[4, 5, 6], [0, 2], false],
    [[7], 0, false],
    [[4, 5, 6], undefined, false], // every axis, as tf.mean(x) asks
    [[32, 10], undefined, true],
  ];
  type Reduction = (x: tf.Tensor, axis: number | number[] | undefined, keepDims: boolean) => tf.Tensor;
  const ops: [string, Reduction][] = [
    ['sum', tf.sum],
    ['mean', tf.mean],
    ['max', tf.max],
    ['min', tf.min],
  ];
  for (const [name, op] of ops) {
    it.each(cases.map((c) => [JSON.stringify(c[0]), JSON.stringify(c[1]), c[2], c] as const))(
      `${name} of %s over %s (keepDims %s) agrees with cpu`,
      async (_s, _a, _k, [shape, axis, keepDims]) => {
        const errors = await compareWithCpu(() => {
          const y = op(t(shape, 4), axis, keepDims);
          return [y, tf.tensor1d(y.shape.length ? y.shape : [0])];
        });
        expect(errors[0]).toBeLessThan(TOLERANCE);
        expect(errors[1]).toBe(0);
      },
    );
  }
});

describeNative('tile, slice and pad', () => {
  it.each([
    [
      [1, 1, 1, 16],
      [8, 4, 4, 1],
    ],
    [
      [2, 3],
      [3, 2],
    ],
    [[5], [4]],
    [
      [2, 3],
      [1, 0],
    ],
    [
      [2, 3],
      [0, 2],
    ],
  ])('tile %j by %j agrees with cpu', async (shape, reps) => {
    const [error] = await compareWithCpu(() => tf.tile(t(shape, 5), reps));
    expect(error).toBe(0);
  });

  it.each([
    [
      [8, 4, 4, 16],
      [0, 0, 0, 4],
      [-1, -1, -1, 8],
    ],
    [
      [8, 4, 4, 16],
      [2, 1, 0, 0],
      [3, 2, 4, 16],
    ],
    [[10], [3], [5]],
    [
      [6, 7],
      [1, 2],
      [0, 3],
    ],
  ])('slice %j from %j size %j agrees with cpu', async (shape, begin, size) => {
    const [error] = await compareWithCpu(() => tf.slice(t(shape, 6), begin, size));
    expect(error).toBe(0);
  });

  it.each([
    [
      [2, 4, 4, 16],
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [8, 8],
      ],
      0,
    ],
    [
      [2, 5, 5, 3],
      [
        [0, 0],
        [1, 2],
        [3, 0],
        [0, 0],
      ],
      1.5,
    ],
  ] as [number[], [number, number][], number][])(
    'pad %j by %j with %d agrees with cpu, with gradient',
    async (shape, paddings, value) => {
      const errors = await compareWithCpu(() => {
        const x = t(shape, 7);
        const y = tf.pad(x, paddings, value);
        const dx = tf.grad((a: tf.Tensor) => tf.pad(a, paddings, value))(x, t(y.shape, 8));
        return [y, dx];
      });
      expect(errors).toEqual([0, 0]);
    },
  );
});

describeNative('inputs the native kernels leave to cpu', () => {
  /** The result on `backend`, or its error message: both backends must agree either way. */
  async function outcome(backend: string, compute: () => tf.Tensor): Promise<number[] | string> {
    await tf.setBackend(backend);
    try {
      return tf.tidy(() => Array.from(compute().dataSync()));
    } catch (error) {
      return (error as Error).message;
    }
  }

  it('negative paddings, which would write outside the native buffers', async () => {
    const pad = () =>
      tf.pad(t([2, 3], 9), [
        [0, 0],
        [-1, 0],
      ]);
    expect(await outcome('onednn', pad)).toEqual(await outcome('cpu', pad));
  });
});

describeNative('native gradients', () => {
  it.each([
    ['relu', tf.relu],
    ['square', tf.square],
  ] as [string, (x: tf.Tensor) => tf.Tensor][])('%s gradient agrees with cpu', async (_name, op) => {
    const errors = await compareWithCpu(() => {
      const x = t([4, 6, 6, 8], 21);
      return tf.grad(op)(x, t([4, 6, 6, 8], 22));
    });
    expect(errors[0]).toBeLessThan(TOLERANCE);
  });

  it.each([
    [[4, 6, 6, 8], [0, 1, 2], false],
    [[4, 6, 6, 8], [0, 1, 2], true],
    [[5, 7], 1, false],
    [[5, 7], [0, 1], false],
  ] as [number[], number | number[], boolean][])(
    'mean gradient of %j over %j (keepDims %s) agrees with cpu',
    async (shape, axis, keepDims) => {
      const errors = await compareWithCpu(() => {
        const x = t(shape, 23);
        const f = (a: tf.Tensor) => tf.mean(a, axis, keepDims);
        return tf.grad(f)(x, t(f(x).shape, 24));
      });
      expect(errors[0]).toBeLessThan(TOLERANCE);
    },
  );

  it.each([
    ['relu', (a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), a))],
    ['square', (a: tf.Tensor) => tf.sum(tf.square(a))],
    ['mean', (a: tf.Tensor) => tf.mean(tf.mul(a, a), 1)],
  ] as [string, (x: tf.Tensor) => tf.Tensor][])(
    'second-order gradient through %s agrees with cpu',
    async (_name, f) => {
      const errors = await compareWithCpu(() => {
        const x = t([3, 5], 25);
        const gradientSum = (a: tf.Tensor) => tf.sum(tf.grad(f)(a));
        return tf.grad(gradientSum)(x);
      });
      expect(errors[0]).toBeLessThan(TOLERANCE);
    },
  );

  it('leaves gradients on other backends to tfjs', async () => {
    await tf.setBackend('cpu');
    const dx = tf.grad((a: tf.Tensor) => tf.relu(a))(tf.tensor1d([-1, 2]));
    expect(Array.from(dx.dataSync())).toEqual([0, 1]);
  });
});
