import sharp from 'sharp';
import { checkImage, type RgbImage } from './image';
import { crop } from './ops';

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name}: expected a positive integer, got ${value}`);
}

/** Resizes to exactly `width` x `height` (bilinear-family "lanczos3" by libvips). */
export async function resize(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  checkImage(image);
  positiveInteger('width', width);
  positiveInteger('height', height);
  if (width === image.width && height === image.height) return { ...image, data: image.data.slice() };
  const data = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: 3 };
}

/** The largest centred `size` x `size` window geometry: [top, left]. */
export function centerCropOffsets(width: number, height: number, size: number): [number, number] {
  if (size > width || size > height)
    throw new RangeError(`center crop ${size} does not fit in ${width}x${height}`);
  return [Math.floor((height - size) / 2), Math.floor((width - size) / 2)];
}

/**
 * Evaluation preprocessing: resize so the shorter side is `shorter` (aspect kept), then the centred
 * `size` x `size` crop (torchvision: 256 then 224).
 */
export async function resizeAndCenterCrop(image: RgbImage, shorter: number, size: number): Promise<RgbImage> {
  checkImage(image);
  positiveInteger('shorter', shorter);
  positiveInteger('size', size);
  const scale = shorter / Math.min(image.width, image.height);
  const resized = await resize(
    image,
    Math.max(shorter, Math.round(image.width * scale)),
    Math.max(shorter, Math.round(image.height * scale)),
  );
  const [top, left] = centerCropOffsets(resized.width, resized.height, size);
  return crop(resized, top, left, size, size);
}

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image. Default [0.08, 1]. */
  scale?: [number, number];
  /** Range of the crop's aspect ratio (width / height). Default [3/4, 4/3]. */
  ratio?: [number, number];
}

/**
 * The window of a random-resized crop (Szegedy et al.; torchvision's algorithm): up to 10 draws of
 * area and log-uniform aspect ratio, falling back to the centred crop of the clamped ratio.
 * Returns [top, left, height, width].
 */
export function randomResizedCropWindow(
  width: number,
  height: number,
  random: () => number,
  { scale = [0.08, 1], ratio = [3 / 4, 4 / 3] }: RandomResizedCropOptions = {},
): [number, number, number, number] {
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1))
    throw new RangeError(`scale: expected 0 < min <= max <= 1, got ${scale}`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1]))
    throw new RangeError(`ratio: expected 0 < min <= max, got ${ratio}`);
  const area = width * height;
  const [logLow, logHigh] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * random());
    const aspect = Math.exp(logLow + (logHigh - logLow) * random());
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const top = Math.min(height - h, Math.floor(random() * (height - h + 1)));
      const left = Math.min(width - w, Math.floor(random() * (width - w + 1)));
      return [top, left, h, w];
    }
  }
  const aspect = width / height;
  const [w, h] =
    aspect < ratio[0]
      ? [width, Math.round(width / ratio[0])]
      : aspect > ratio[1]
        ? [Math.round(height * ratio[1]), height]
        : [width, height];
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

/** A random-resized crop of `image` resized to `size` x `size`. */
export async function randomResizedCrop(
  image: RgbImage,
  size: number,
  random: () => number,
  options: RandomResizedCropOptions = {},
): Promise<RgbImage> {
  checkImage(image);
  positiveInteger('size', size);
  const [top, left, h, w] = randomResizedCropWindow(image.width, image.height, random, options);
  return resize(crop(image, top, left, h, w), size, size);
}
