import { checkImage, type RgbImage } from './image';

export interface ColorJitterOptions {
  /** Brightness factor drawn from [1 - b, 1 + b]. Default 0. */
  brightness?: number;
  /** Contrast factor drawn from [1 - c, 1 + c], around the mean luma. Default 0. */
  contrast?: number;
  /** Saturation factor drawn from [1 - s, 1 + s], around each pixel's luma. Default 0. */
  saturation?: number;
}

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

export interface RandomErasingOptions {
  /** Probability of erasing. Default 0.5. */
  probability?: number;
  /** Erased area as a fraction of the image. Default [0.02, 0.33]. */
  scale?: [number, number];
  /** Aspect ratio (height / width) of the rectangle. Default [0.3, 3.3]. */
  ratio?: [number, number];
  /** Fill value. Default 0. */
  value?: number;
}

/** Random erasing (Zhong et al. 2017): one rectangle set to `value`, up to 10 tries to fit it. */
export function randomErasing(
  image: RgbImage,
  random: () => number,
  options: RandomErasingOptions = {},
): RgbImage {
  checkImage(image);
  const { probability = 0.5, scale = [0.02, 0.33], ratio = [0.3, 3.3], value = 0 } = options;
  if (!(probability >= 0 && probability <= 1))
    throw new RangeError(`probability: expected 0–1, got ${probability}`);
  if (random() >= probability) return image;
  const area = image.width * image.height;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * random());
    const aspect = Math.exp(Math.log(ratio[0]) + (Math.log(ratio[1]) - Math.log(ratio[0])) * random());
    const h = Math.round(Math.sqrt(target * aspect));
    const w = Math.round(Math.sqrt(target / aspect));
    if (h < 1 || w < 1 || h > image.height || w > image.width) continue;
    const top = Math.min(image.height - h, Math.floor(random() * (image.height - h + 1)));
    const left = Math.min(image.width - w, Math.floor(random() * (image.width - w + 1)));
    const data = image.data.slice();
    for (let y = top; y < top + h; y++)
      data.fill(value, (y * image.width + left) * 3, (y * image.width + left + w) * 3);
    return { ...image, data };
  }
  return image;
}
