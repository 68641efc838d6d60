import sharp from 'sharp';

/** An 8-bit RGB image, rows of pixels, channels interleaved (HWC). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (decompression bombs). Default 100 million. */
  maxPixels?: number;
}

/** A file or buffer that is not a complete, decodable image. `source` names it. */
export class ImageDecodeError extends Error {
  readonly source: string;

  constructor(source: string, reason: string) {
    super(`${source}: ${reason}`);
    this.name = 'ImageDecodeError';
    this.source = source;
  }
}

const describe = (input: string | Uint8Array) =>
  typeof input === 'string' ? input : `<buffer of ${input.length} bytes>`;

/**
 * Decodes JPEG, PNG, WebP, GIF, TIFF or AVIF into 8-bit RGB: EXIF orientation applied, grayscale
 * expanded, alpha composited on black, CMYK and 16-bit converted. Truncated or corrupt files, and
 * files that are not images whatever their name, are an `ImageDecodeError` naming the source.
 */
export async function decodeImage(
  input: string | Uint8Array,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const source = describe(input);
  try {
    const { data, info } = await sharp(typeof input === 'string' ? input : Buffer.from(input), {
      limitInputPixels: options.maxPixels ?? 100_000_000,
      failOn: 'truncated',
    })
      .rotate()
      .toColourspace('srgb')
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      channels: 3,
    };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    const message = (error as Error).message;
    if (/pixel limit/i.test(message))
      throw new ImageDecodeError(source, `image exceeds ${options.maxPixels ?? 100_000_000} pixels`);
    throw new ImageDecodeError(source, `not a decodable image (${message})`);
  }
}

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** Encodes an RGB image; `quality` (1–100) applies to JPEG and WebP. */
export async function encodeImage(image: RgbImage, format: ImageFormat, quality = 90): Promise<Buffer> {
  checkImage(image);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`quality: expected an integer from 1 to 100, got ${quality}`);
  }
  const pipeline = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
  if (format === 'jpeg') return pipeline.jpeg({ quality }).toBuffer();
  if (format === 'png') return pipeline.png().toBuffer();
  if (format === 'webp') return pipeline.webp({ quality }).toBuffer();
  throw new RangeError(`format: expected 'jpeg', 'png' or 'webp', got ${JSON.stringify(format)}`);
}

/** Throws unless `image` is a consistent RgbImage. */
export function checkImage(image: RgbImage): void {
  const ok =
    image !== null &&
    typeof image === 'object' &&
    image.data instanceof Uint8Array &&
    Number.isInteger(image.width) &&
    Number.isInteger(image.height) &&
    image.width > 0 &&
    image.height > 0 &&
    image.channels === 3 &&
    image.data.length === image.width * image.height * 3;
  if (!ok)
    throw new TypeError(
      'image: expected { data: Uint8Array of width*height*3 bytes, width, height, channels: 3 }',
    );
}
