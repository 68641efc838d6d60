import sharp from 'sharp';
import { checkImage, type RgbImage } from './image';

/** Throws a `RangeError` naming `name` unless `value` is a positive integer. */
export function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name}: expected a positive integer, got ${value}`);
}

/** Resizes to exactly `width` x `height` (bilinear-family "lanczos3" by libvips). */
export async function resize(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  checkImage(image);
  checkPositiveInteger('width', width);
  checkPositiveInteger('height', height);
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
