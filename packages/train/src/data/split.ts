import { sampleRandom } from '@resnet-ts/augment';
import { DatasetError, firstPerClass, type ImageDataset, subset } from './dataset';

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

/** Each class's sample indices, in dataset order. */
function indicesByClass(labels: Int32Array): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  return byClass;
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
  const byClass = indicesByClass(labels);
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

/**
 * At most `limit` samples of every class, chosen by `seed` alone (the same seed and limit choose the
 * same samples, whatever else the run sets), in dataset order.
 */
export function limitPerClass(labels: Int32Array, limit: number, seed: number): Int32Array {
  const byClass = indicesByClass(labels);
  const keep: number[] = [];
  for (const [label, indices] of byClass) {
    if (indices.length <= limit) {
      keep.push(...indices);
      continue;
    }
    const order = permutation(indices.length, sampleRandom(seed, -3, label));
    for (const k of order.subarray(0, limit)) keep.push(indices[k] as number);
  }
  return Int32Array.from(keep.sort((a, b) => a - b));
}

/**
 * The samples a run trains and validates on: all of `dataset`, or its per-class subset
 * (`maxPerClass`: the first N of each class; `limitPerClass`: N of each class chosen by the seed).
 */
export function runSubset(
  dataset: ImageDataset,
  config: { maxPerClass?: number; limitPerClass?: number; seed: number },
): ImageDataset {
  const first = config.maxPerClass ? firstPerClass(dataset, config.maxPerClass) : dataset;
  return config.limitPerClass
    ? subset(first, limitPerClass(first.labels, config.limitPerClass, config.seed))
    : first;
}
