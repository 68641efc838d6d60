import { checkImage, type RgbImage } from './image';

function blank(width: number, height: number, fill = 0): RgbImage {
  const data = new Uint8Array(width * height * 3);
  if (fill !== 0) data.fill(fill);
  return { data, width, height, channels: 3 };
}

/** Mirror left to right. */
export function flipHorizontal(image: RgbImage): RgbImage {
  checkImage(image);
  const { width, height, data } = image;
  const out = blank(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      const to = (y * width + (width - 1 - x)) * 3;
      out.data[to] = data[from]!;
      out.data[to + 1] = data[from + 1]!;
      out.data[to + 2] = data[from + 2]!;
    }
  }
  return out;
}

/** Mirror top to bottom. */
export function flipVertical(image: RgbImage): RgbImage {
  checkImage(image);
  const { width, height, data } = image;
  const out = blank(width, height);
  const row = width * 3;
  for (let y = 0; y < height; y++)
    out.data.set(data.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return out;
}

/** The `width`x`height` window whose top-left corner is (left, top); it must lie inside the image. */
export function crop(image: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  checkImage(image);
  for (const [name, value] of Object.entries({ top, left, height, width })) {
    if (!Number.isInteger(value) || value < 0)
      throw new RangeError(`${name}: expected a non-negative integer, got ${value}`);
  }
  if (width === 0 || height === 0 || top + height > image.height || left + width > image.width) {
    throw new RangeError(
      `crop ${width}x${height} at (${left}, ${top}) does not fit in a ${image.width}x${image.height} image`,
    );
  }
  const out = blank(width, height);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    out.data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return out;
}

/** A border of `amount` pixels of value `fill` on every side. */
export function pad(image: RgbImage, amount: number, fill = 0): RgbImage {
  checkImage(image);
  if (!Number.isInteger(amount) || amount < 0)
    throw new RangeError(`amount: expected a non-negative integer, got ${amount}`);
  if (!Number.isInteger(fill) || fill < 0 || fill > 255)
    throw new RangeError(`fill: expected an integer 0–255, got ${fill}`);
  const width = image.width + 2 * amount;
  const out = blank(width, image.height + 2 * amount, fill);
  for (let y = 0; y < image.height; y++) {
    out.data.set(
      image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3),
      ((y + amount) * width + amount) * 3,
    );
  }
  return out;
}
