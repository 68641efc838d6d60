import { epochOrder, limitPerClass, permutation, stratifiedSplit } from './split';

describe('stratifiedSplit', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 600 ? 0 : i < 900 ? 1 : 2));

  it('holds out the same fraction of every class, disjointly, covering everything', () => {
    const { train, validation } = stratifiedSplit(labels, 0.1, 3);
    const count = (indices: Int32Array, c: number) =>
      Array.from(indices).filter((i) => labels[i] === c).length;
    expect([0, 1, 2].map((c) => count(validation, c))).toEqual([60, 30, 10]);
    expect(train.length + validation.length).toBe(1000);
    expect(new Set([...train, ...validation]).size).toBe(1000);
  });

  it('depends on the seed only', () => {
    expect(stratifiedSplit(labels, 0.1, 3)).toEqual(stratifiedSplit(labels, 0.1, 3));
    expect(stratifiedSplit(labels, 0.1, 4).validation).not.toEqual(
      stratifiedSplit(labels, 0.1, 3).validation,
    );
  });

  it('gives He et al.’s 45k/5k for CIFAR-10-sized classes', () => {
    const cifar = Int32Array.from({ length: 50_000 }, (_, i) => i % 10);
    const { train, validation } = stratifiedSplit(cifar, 0.1, 0);
    expect([train.length, validation.length]).toEqual([45_000, 5_000]);
  });

  it('refuses a class too small to split and a bad fraction', () => {
    expect(() => stratifiedSplit(Int32Array.from([0, 0, 1]), 0.5, 0)).toThrow(/class 1 has 1 sample/);
    expect(() => stratifiedSplit(Int32Array.from([0, 0, 1]), 0.5, 0, ['cat', 'dog'])).toThrow(
      'class dog has 1 sample(s): too few to hold out 1 for validation (valSplit 0.5); add images or set valSplit 0',
    );
    expect(() => stratifiedSplit(labels, 1, 0)).toThrow(/valSplit/);
  });
});

describe('epoch order', () => {
  it('is a permutation that changes with the epoch and repeats for the same (seed, epoch)', () => {
    const a = epochOrder(100, 1, 0);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(epochOrder(100, 1, 0)).toEqual(a);
    expect(epochOrder(100, 1, 1)).not.toEqual(a);
    expect(permutation(1, () => 0.5)).toEqual(Int32Array.from([0]));
  });
});

describe('firstPerClass', () => {
  it('keeps the first N samples of every class, pixels included', async () => {
    const { firstPerClass } = await import('./dataset');
    const images = new Uint8Array(6 * 3).map((_, i) => i);
    const dataset = {
      kind: 'memory' as const,
      classes: ['a', 'b'],
      labels: Int32Array.from([0, 1, 0, 0, 1, 1]),
      images,
      height: 1,
      width: 1,
      source: 't',
    };
    const small = firstPerClass(dataset, 2);
    expect(Array.from(small.labels)).toEqual([0, 1, 0, 1]);
    if (small.kind !== 'memory') throw new Error('expected memory');
    expect(Array.from(small.images)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14]);
  });
});

describe('limitPerClass', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 50 ? 0 : i < 97 ? 1 : 2));

  it('keeps at most N of every class (all of a smaller one), in dataset order, chosen by the seed', () => {
    const kept = limitPerClass(labels, 10, 7);
    const count = (c: number) => Array.from(kept).filter((i) => labels[i] === c).length;
    expect([0, 1, 2].map(count)).toEqual([10, 10, 3]);
    expect(Array.from(kept)).toEqual(Array.from(kept).sort((a, b) => a - b));
    expect(limitPerClass(labels, 10, 7)).toEqual(kept);
    expect(limitPerClass(labels, 10, 8)).not.toEqual(kept);
    expect(Array.from(kept.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // not the first N
    expect(limitPerClass(labels, 100, 7)).toEqual(Int32Array.from(labels.keys()));
  });
});
