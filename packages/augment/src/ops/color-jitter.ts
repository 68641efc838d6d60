import { checkImage, type RgbImage } from '../image';
import { amount as amountField } from './fields';
import { defineOp, type OptionsOf } from './op';

const fields = {
  brightness: amountField('brightness factor drawn from [1 - b, 1 + b]'),
  contrast: amountField('contrast factor drawn from [1 - c, 1 + c], around the mean luma'),
  saturation: amountField("saturation factor drawn from [1 - s, 1 + s], around each pixel's luma"),
};

/** Jitter amounts; each defaults to 0 (no change). */
export type ColorJitterOptions = OptionsOf<typeof fields>;

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

function factor(name: string, amount: number, random: () => number): number {
  if (!(amount >= 0)) throw new RangeError(`${name}: expected a non-negative amount, got ${amount}`);
  return amount === 0 ? 1 : Math.max(0, 1 - amount + 2 * amount * random());
}

/**
 * Brightness, contrast and saturation jitter (in that order, as torchvision's ColorJitter with a
 * fixed order): factors are drawn from `random`, results rounded and clamped to 0–255.
 */
export function colorJitter(image: RgbImage, options: ColorJitterOptions, random: () => number): RgbImage {
  checkImage(image);
  const b = factor('brightness', options.brightness ?? 0, random);
  const c = factor('contrast', options.contrast ?? 0, random);
  const s = factor('saturation', options.saturation ?? 0, random);
  const src = image.data;
  const values = Float32Array.from(src, (v) => v * b);
  if (c !== 1) {
    let sum = 0;
    for (let i = 0; i < values.length; i += 3) sum += luma(values[i]!, values[i + 1]!, values[i + 2]!);
    const mean = sum / (values.length / 3);
    for (let i = 0; i < values.length; i++) values[i] = (values[i]! - mean) * c + mean;
  }
  if (s !== 1) {
    for (let i = 0; i < values.length; i += 3) {
      const y = luma(values[i]!, values[i + 1]!, values[i + 2]!);
      for (let k = 0; k < 3; k++) values[i + k] = (values[i + k]! - y) * s + y;
    }
  }
  return { ...image, data: Uint8Array.from(values, clampByte) };
}

export const colorJitterOp = defineOp({
  name: 'colorJitter',
  summary: 'Brightness, contrast and saturation jitter, in that order; rounded and clamped to bytes',
  fields,
  apply: (image, step, random) => colorJitter(image, step, random),
});
