import { sampleRandom } from '@resnet-ts/augment';
import { DatasetError } from './dataset';

/** Fisher–Yates over 0..n-1 with a seeded stream. */
export function permutation(n: number, random: () => number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** The training order of `epoch`: depends only on (seed, epoch). */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  return permutation(count, sampleRandom(seed, epoch, -1));
}

export interface Split {
  train: Int32Array;
  validation: Int32Array;
}

/**
 * A seeded stratified split: each class gives round(fraction × its count) samples to validation
 * (at least one when the fraction is positive), so class proportions match in both parts.
 */
export function stratifiedSplit(
  labels: Int32Array,
  fraction: number,
  seed: number,
  /** Class names, for errors; default: the label numbers. */
  classes?: readonly string[],
): Split {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`valSplit: expected a fraction in [0, 1), got ${fraction}`);
  }
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const train: number[] = [];
  const validation: number[] = [];
  for (const [label, indices] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const take = fraction > 0 ? Math.max(1, Math.round(indices.length * fraction)) : 0;
    if (take >= indices.length) {
      throw new DatasetError(
        `class ${classes?.[label] ?? label} has ${indices.length} sample(s): too few to hold out ${take} for validation (valSplit ${fraction}); add images or set valSplit 0`,
      );
    }
    const order = permutation(indices.length, sampleRandom(seed, -2, label));
    order.forEach((k, position) => {
      (position < take ? validation : train).push(indices[k] as number);
    });
  }
  return {
    train: Int32Array.from(train.sort((a, b) => a - b)),
    validation: Int32Array.from(validation.sort((a, b) => a - b)),
  };
}
