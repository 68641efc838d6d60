import { randomInt } from './random';

/** A batch of float images (NHWC, row-major) with one-hot (or soft) labels, both mutable copies. */
export interface Batch {
  images: Float32Array;
  labels: Float32Array;
  /** [batch, height, width, channels] */
  shape: [number, number, number, number];
  classes: number;
}

function checkBatch(batch: Batch): void {
  const [n, h, w, c] = batch.shape;
  if (![n, h, w, c].every((d) => Number.isInteger(d) && d > 0))
    throw new RangeError(`shape: expected 4 positive integers, got ${batch.shape}`);
  if (batch.images.length !== n * h * w * c)
    throw new RangeError(
      `images: expected ${n * h * w * c} values for shape ${batch.shape}, got ${batch.images.length}`,
    );
  if (!Number.isInteger(batch.classes) || batch.classes < 1 || batch.labels.length !== n * batch.classes) {
    throw new RangeError(`labels: expected ${n} x ${batch.classes} values, got ${batch.labels.length}`);
  }
}

/** Standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) draw (Marsaglia–Tsang; boosted for shape < 1). */
function gamma(shape: number, random: () => number): number {
  if (shape < 1) return gamma(shape + 1, random) * Math.max(random(), Number.MIN_VALUE) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = random();
    if (Math.log(Math.max(u, Number.MIN_VALUE)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(alpha, alpha) draw: the mixing weight of MixUp and CutMix. */
export function betaSample(alpha: number, random: () => number): number {
  if (!(alpha > 0)) throw new RangeError(`alpha: expected a positive number, got ${alpha}`);
  const a = gamma(alpha, random);
  const b = gamma(alpha, random);
  return a / (a + b);
}

/** A random permutation of 0..n-1 (Fisher–Yates): each sample's mixing partner. */
export function mixPartners(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function mixLabels(batch: Batch, partner: number[], weights: number[]): Float32Array {
  const { labels, classes } = batch;
  const out = new Float32Array(labels.length);
  for (let i = 0; i < partner.length; i++) {
    const w = weights[i]!;
    for (let k = 0; k < classes; k++) {
      out[i * classes + k] = w * labels[i * classes + k]! + (1 - w) * labels[partner[i]! * classes + k]!;
    }
  }
  return out;
}

/** MixUp (Zhang et al. 2018): every sample blended with a partner by one λ ~ Beta(α, α), labels too. */
export function mixup(batch: Batch, alpha: number, random: () => number): Batch {
  checkBatch(batch);
  const lambda = betaSample(alpha, random);
  const n = batch.shape[0];
  const partner = mixPartners(n, random);
  const size = batch.images.length / n;
  const images = new Float32Array(batch.images.length);
  for (let i = 0; i < n; i++) {
    const a = i * size;
    const b = partner[i]! * size;
    for (let j = 0; j < size; j++)
      images[a + j] = lambda * batch.images[a + j]! + (1 - lambda) * batch.images[b + j]!;
  }
  return { ...batch, images, labels: mixLabels(batch, partner, new Array(n).fill(lambda)) };
}

/** CutMix's box: area (1 - λ), centred at a uniform pixel, clipped to the image. */
export function cutmixBox(height: number, width: number, lambda: number, random: () => number) {
  const cut = Math.sqrt(1 - lambda);
  const boxH = Math.round(height * cut);
  const boxW = Math.round(width * cut);
  const cy = randomInt(random, height);
  const cx = randomInt(random, width);
  return {
    top: Math.max(0, cy - Math.floor(boxH / 2)),
    bottom: Math.min(height, cy + Math.ceil(boxH / 2)),
    left: Math.max(0, cx - Math.floor(boxW / 2)),
    right: Math.min(width, cx + Math.ceil(boxW / 2)),
  };
}

/**
 * CutMix (Yun et al. 2019): a box of area (1 - λ) pasted from a partner sample; labels mixed by the
 * box's exact area after clipping to the image.
 */
export function cutmix(batch: Batch, alpha: number, random: () => number): Batch {
  checkBatch(batch);
  const [n, height, width, channels] = batch.shape;
  const lambda = betaSample(alpha, random);
  const partner = mixPartners(n, random);
  const { top, bottom, left, right } = cutmixBox(height, width, lambda, random);
  const images = batch.images.slice();
  const size = height * width * channels;
  for (let i = 0; i < n; i++) {
    for (let y = top; y < bottom; y++) {
      const row = (y * width + left) * channels;
      images.set(
        batch.images.subarray(partner[i]! * size + row, partner[i]! * size + row + (right - left) * channels),
        i * size + row,
      );
    }
  }
  const kept = 1 - ((bottom - top) * (right - left)) / (height * width);
  return { ...batch, images, labels: mixLabels(batch, partner, new Array(n).fill(kept)) };
}
