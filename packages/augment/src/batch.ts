import * as tf from '@tensorflow/tfjs-core';
import { randomInt } from './random';

/**
 * Batch versions of the per-image ops, on float32 NHWC tensors (any tfjs backend, Node or browser).
 * Sample i draws from `randoms[i]` in the same order as the per-image op, so a batch gives exactly
 * what the per-image ops give for the same (seed, epoch, index).
 */
function checkBatch(x: tf.Tensor4D, randoms: (() => number)[]): void {
  if (x.rank !== 4) throw new RangeError(`x: expected a 4-D NHWC tensor, got rank ${x.rank}`);
  if (randoms.length !== x.shape[0]) {
    throw new RangeError(
      `randoms: expected one random source per sample (${x.shape[0]}), got ${randoms.length}`,
    );
  }
}

/** Mirrors each sample left to right where `flips[i]`. */
function flipWhere(x: tf.Tensor4D, flips: boolean[]): tf.Tensor4D {
  return tf.tidy(() => {
    if (!flips.some(Boolean)) return x.clone();
    const mask = tf.tile(tf.tensor4d(flips.map(Number), [flips.length, 1, 1, 1], 'bool'), [
      1,
      ...x.shape.slice(1),
    ]);
    return tf.where(mask, tf.reverse(x, 2), x) as tf.Tensor4D;
  });
}

/** Horizontal flip of each sample with probability `probability` (one draw per sample). */
export function flipBatch(x: tf.Tensor4D, randoms: (() => number)[], probability = 0.5): tf.Tensor4D {
  checkBatch(x, randoms);
  return flipWhere(
    x,
    randoms.map((random) => random() < probability),
  );
}

/** He et al.'s pad + random crop + flip on a batch; matches `padCropFlip` sample by sample. */
export function padCropFlipBatch(x: tf.Tensor4D, padding: number, randoms: (() => number)[]): tf.Tensor4D {
  checkBatch(x, randoms);
  if (!Number.isInteger(padding) || padding < 0)
    throw new RangeError(`padding: expected a non-negative integer, got ${padding}`);
  const [, height, width] = x.shape;
  const offsets = randoms.map((random) => {
    const top = randomInt(random, 2 * padding + 1);
    const left = randomInt(random, 2 * padding + 1);
    return { top, left, flip: random() < 0.5 };
  });
  return tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [padding, padding],
      [padding, padding],
      [0, 0],
    ]);
    const crops = tf.concat(
      offsets.map(({ top, left }, i) => tf.slice(padded, [i, top, left, 0], [1, height, width, -1])),
      0,
    ) as tf.Tensor4D;
    return flipWhere(
      crops,
      offsets.map((o) => o.flip),
    );
  });
}
