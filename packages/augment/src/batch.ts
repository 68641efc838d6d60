import * as tf from '@tensorflow/tfjs-core';
import { type ColorJitterOptions, type RandomErasingOptions, randomErasing } from './color';
import { betaSample, cutmixBox, mixPartners } from './mix';
import { randomInt } from './random';
import { centerCropOffsets, type RandomResizedCropOptions, randomResizedCropWindow } from './resize';

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

/** Mirrors each sample where `flips[i]`: left to right (axis 2) or top to bottom (axis 1). */
function flipWhere(x: tf.Tensor4D, flips: boolean[], axis: 1 | 2 = 2): tf.Tensor4D {
  return tf.tidy(() => {
    if (!flips.some(Boolean)) return x.clone();
    const mask = tf.tile(tf.tensor4d(flips.map(Number), [flips.length, 1, 1, 1], 'bool'), [
      1,
      ...x.shape.slice(1),
    ]);
    return tf.where(mask, tf.reverse(x, axis), x) as tf.Tensor4D;
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

/** Vertical flip of each sample with probability `probability` (one draw per sample). */
export function flipVerticalBatch(x: tf.Tensor4D, randoms: (() => number)[], probability = 0.5): tf.Tensor4D {
  checkBatch(x, randoms);
  return flipWhere(
    x,
    randoms.map((random) => random() < probability),
    1,
  );
}

/**
 * Random-resized crop of each sample to size×size: the same windows as `randomResizedCrop` for the
 * same random sources, resampled bilinearly by `tf.image.cropAndResize` (the per-image op resamples
 * with sharp, so values differ slightly; geometry is identical).
 */
export function randomResizedCropBatch(
  x: tf.Tensor4D,
  size: number,
  randoms: (() => number)[],
  options: RandomResizedCropOptions = {},
): tf.Tensor4D {
  checkBatch(x, randoms);
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`size: expected a positive integer, got ${size}`);
  const [, height, width] = x.shape;
  const boxes = randoms.map((random) => {
    const [top, left, h, w] = randomResizedCropWindow(width, height, random, options);
    // cropAndResize samples box corners, so map pixel edges to the centres of the edge pixels.
    const y = (v: number) => (height > 1 ? v / (height - 1) : 0);
    const xx = (v: number) => (width > 1 ? v / (width - 1) : 0);
    return [y(top), xx(left), y(top + h - 1), xx(left + w - 1)];
  });
  return tf.tidy(() =>
    tf.image.cropAndResize(
      x,
      tf.tensor2d(boxes, [boxes.length, 4]),
      tf.range(0, boxes.length, 1, 'int32') as tf.Tensor1D,
      [size, size],
      'bilinear',
    ),
  );
}

/**
 * Colour jitter on a batch of 0–255 values: the factors `colorJitter` draws for the same random
 * sources, applied without the per-image op's rounding to bytes; clipped to 0–255.
 */
export function colorJitterBatch(
  x: tf.Tensor4D,
  options: ColorJitterOptions,
  randoms: (() => number)[],
): tf.Tensor4D {
  checkBatch(x, randoms);
  const draw = (amount: number | undefined, name: string, random: () => number) => {
    const a = amount ?? 0;
    if (!(a >= 0)) throw new RangeError(`${name}: expected a non-negative amount, got ${a}`);
    return a === 0 ? 1 : Math.max(0, 1 - a + 2 * a * random());
  };
  const factors = randoms.map((random) => [
    draw(options.brightness, 'brightness', random),
    draw(options.contrast, 'contrast', random),
    draw(options.saturation, 'saturation', random),
  ]);
  const n = factors.length;
  const column = (k: number) =>
    tf.tensor4d(
      factors.map((f) => f[k] as number),
      [n, 1, 1, 1],
    );
  return tf.tidy(() => {
    const lumaWeights = tf.tensor1d([0.299, 0.587, 0.114]);
    const luma = (t: tf.Tensor4D) => tf.sum(tf.mul(t, lumaWeights), 3, true) as tf.Tensor4D;
    let out = tf.mul(x, column(0)) as tf.Tensor4D;
    const mean = tf.mean(luma(out), [1, 2, 3], true);
    out = tf.add(tf.mul(tf.sub(out, mean), column(1)), mean) as tf.Tensor4D;
    const y = luma(out);
    out = tf.add(tf.mul(tf.sub(out, y), column(2)), y) as tf.Tensor4D;
    return tf.clipByValue(out, 0, 255) as tf.Tensor4D;
  });
}

/** Random erasing on a batch: exactly the rectangles `randomErasing` picks for the same sources. */
export function randomErasingBatch(
  x: tf.Tensor4D,
  randoms: (() => number)[],
  options: RandomErasingOptions = {},
): tf.Tensor4D {
  checkBatch(x, randoms);
  const [n, height, width, channels] = x.shape;
  // Run the per-image op on a 1-channel-per-pixel probe to learn its rectangle, without pixels.
  const mask = new Uint8Array(n * height * width);
  randoms.forEach((random, i) => {
    const probe = { data: new Uint8Array(height * width * 3).fill(1), width, height, channels: 3 as const };
    const erased = randomErasing(probe, random, { ...options, value: 0 });
    if (erased === probe) return;
    for (let p = 0; p < height * width; p++) if (erased.data[p * 3] === 0) mask[i * height * width + p] = 1;
  });
  return tf.tidy(() => {
    const m = tf.tile(tf.tensor4d(mask, [n, height, width, 1], 'bool'), [1, 1, 1, channels]);
    return tf.where(m, tf.fill(x.shape, options.value ?? 0), x) as tf.Tensor4D;
  });
}

/** MixUp on tensors: the same λ and partners as `mixup` for the same random source. */
export function mixupBatch(
  x: tf.Tensor4D,
  labels: tf.Tensor2D,
  alpha: number,
  random: () => number,
): { x: tf.Tensor4D; labels: tf.Tensor2D } {
  const n = x.shape[0];
  const lambda = betaSample(alpha, random);
  const partner = tf.tensor1d(mixPartners(n, random), 'int32');
  return tf.tidy(() => ({
    x: tf.add(tf.mul(x, lambda), tf.mul(tf.gather(x, partner), 1 - lambda)) as tf.Tensor4D,
    labels: tf.add(tf.mul(labels, lambda), tf.mul(tf.gather(labels, partner), 1 - lambda)) as tf.Tensor2D,
  }));
}

/** CutMix on tensors: the same box, partners and label weights as `cutmix` for the same source. */
export function cutmixBatch(
  x: tf.Tensor4D,
  labels: tf.Tensor2D,
  alpha: number,
  random: () => number,
): { x: tf.Tensor4D; labels: tf.Tensor2D } {
  const [n, height, width, channels] = x.shape;
  const lambda = betaSample(alpha, random);
  const partners = mixPartners(n, random);
  const box = cutmixBox(height, width, lambda, random);
  const mask = new Uint8Array(height * width);
  for (let y = box.top; y < box.bottom; y++) mask.fill(1, y * width + box.left, y * width + box.right);
  const kept = 1 - ((box.bottom - box.top) * (box.right - box.left)) / (height * width);
  return tf.tidy(() => {
    const partner = tf.tensor1d(partners, 'int32');
    const m = tf.tile(tf.tensor4d(mask, [1, height, width, 1], 'bool'), [n, 1, 1, channels]);
    return {
      x: tf.where(m, tf.gather(x, partner), x) as tf.Tensor4D,
      labels: tf.add(tf.mul(labels, kept), tf.mul(tf.gather(labels, partner), 1 - kept)) as tf.Tensor2D,
    };
  });
}

/**
 * Evaluation preprocessing on a batch: bilinear resize so the shorter side is `shorter`, then the
 * centred size×size crop — the geometry of `resizeAndCenterCrop` (which resamples with sharp).
 */
export function resizeAndCenterCropBatch(x: tf.Tensor4D, shorter: number, size: number): tf.Tensor4D {
  if (x.rank !== 4) throw new RangeError(`x: expected a 4-D NHWC tensor, got rank ${x.rank}`);
  for (const [name, v] of [
    ['shorter', shorter],
    ['size', size],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name}: expected a positive integer, got ${v}`);
  }
  const [, height, width] = x.shape;
  const scale = shorter / Math.min(width, height);
  const h = Math.max(shorter, Math.round(height * scale));
  const w = Math.max(shorter, Math.round(width * scale));
  const [top, left] = centerCropOffsets(w, h, size);
  return tf.tidy(
    () =>
      tf.slice(
        tf.image.resizeBilinear(x, [h, w], false, true),
        [0, top, left, 0],
        [-1, size, size, -1],
      ) as tf.Tensor4D,
  );
}
