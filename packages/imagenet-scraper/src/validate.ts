import { createHash } from 'node:crypto';
import sharp, { type OutputInfo } from 'sharp';
import { type ErrorKind, fail, firstLine } from './errors';
import { dHashPixels, hammingDistance } from './phash';

export type ImageFormat = 'jpg' | 'png' | 'gif' | 'webp';

/** The format a file's first bytes announce, or undefined. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return undefined;
}

export interface ValidateOptions {
  minBytes: number;
  minWidth: number;
  minHeight: number;
  /** More pixels than this (read from the header, before decoding) is a `decompression-bomb`. */
  maxPixels: number;
  /** sha256 hex digests of known placeholder images, rejected outright. */
  placeholderHashes?: Set<string>;
  /** dHashes (16 hex digits, `perceptualHash`) of known placeholders: an image this close is one. */
  placeholderDHashes?: string[];
  /** Most bits (of 64) an image's dHash may differ from a placeholder's and still be one. Default 5. */
  placeholderDistance?: number;
}

export type Validation =
  | { ok: true; sha256: string; format: ImageFormat; width: number; height: number }
  | { ok: false; kind: ErrorKind; message: string; sha256?: string };

// Flickr's "This photo is no longer available" image: a flat grey card at these sizes.
const FLICKR_PLACEHOLDER_SIZES = new Set([
  '500x374',
  '500x375',
  '240x179',
  '240x180',
  '100x75',
  '1024x768',
  '640x480',
  '320x240',
]);

/** Mean per-channel standard deviation of 8-bit RGB pixels (a flat card has almost none). */
function spread(data: Buffer, channels: number): number {
  let total = 0;
  for (let c = 0; c < Math.min(3, channels); c++) {
    let sum = 0;
    let squares = 0;
    let n = 0;
    for (let i = c; i < data.length; i += channels * 7) {
      const v = data[i] as number;
      sum += v;
      squares += v * v;
      n++;
    }
    total += Math.sqrt(Math.max(0, squares / n - (sum / n) ** 2));
  }
  return total / Math.min(3, channels);
}

/** What the cheap checks (no decode) learn of a body that passes them. */
export interface Inspection {
  sha256: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** Bytes a full decode holds at once, about: its pixels, plus the body. */
  decodeBytes: number;
}

type Failed = Extract<Validation, { ok: false }>;

/**
 * The checks before any decode: minimum size, magic bytes, known placeholders, and the header's
 * dimensions against `maxPixels` (a decompression bomb is refused before it takes memory).
 */
export async function inspectImage(bytes: Buffer, options: ValidateOptions): Promise<Inspection | Failed> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length < options.minBytes)
    return { ok: false, ...fail.tooSmall(bytes.length, options.minBytes), sha256 };
  const format = sniffFormat(bytes);
  if (!format) return { ok: false, ...fail.notImage(), sha256 };
  if (options.placeholderHashes?.has(sha256)) return { ok: false, ...fail.knownPlaceholder(), sha256 };
  let header: { width?: number; height?: number; channels?: number };
  try {
    // The header only: sharp's default pixel limit would hide the dimensions named below.
    header = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    return { ok: false, ...fail.corrupt(error), sha256 };
  }
  const { width = 0, height = 0 } = header;
  if (width * height > options.maxPixels)
    return { ok: false, ...fail.decompressionBomb(width, height, options.maxPixels), sha256 };
  // 4 bytes a pixel covers an alpha channel and the decoder's own buffers; 8 bits per sample.
  const decodeBytes = width * height * Math.max(4, header.channels ?? 4) + bytes.length;
  return { sha256, format, width, height, decodeBytes };
}

/**
 * The full decode (a truncated file fails), minimum width and height, and placeholders: Flickr's
 * flat card, or within `placeholderDistance` bits of a known placeholder's dHash.
 */
export async function decodeImage(
  bytes: Buffer,
  inspected: Inspection,
  options: ValidateOptions,
): Promise<Validation> {
  const { sha256, format } = inspected;
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: options.maxPixels })
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (error) {
    // The header can understate what the decoder finds: sharp's own pixel limit is the backstop.
    if (/pixel limit/i.test(firstLine(error)))
      return {
        ok: false,
        ...fail.decompressionBomb(inspected.width, inspected.height, options.maxPixels),
        sha256,
      };
    return { ok: false, ...fail.corrupt(error), sha256 };
  }
  const { width, height } = info;
  if (width < options.minWidth || height < options.minHeight)
    return { ok: false, ...fail.smallDimensions(width, height, options.minWidth, options.minHeight), sha256 };
  if (FLICKR_PLACEHOLDER_SIZES.has(`${width}x${height}`) && spread(data, info.channels) < 12)
    return { ok: false, ...fail.flatCard(width, height), sha256 };
  if (options.placeholderDHashes?.length) {
    // From the pixels already decoded: no second decode.
    const hash = dHashPixels(data, info);
    const limit = options.placeholderDistance ?? 5;
    for (const known of options.placeholderDHashes) {
      const distance = hammingDistance(hash, known);
      if (distance <= limit) return { ok: false, ...fail.lookalikePlaceholder(known, distance), sha256 };
    }
  }
  return { ok: true, sha256, format, width, height };
}

/**
 * Checks a downloaded body: minimum size, magic bytes, known placeholders, the pixel limit (from
 * the header), then a full decode (a truncated file fails), minimum width and height, and Flickr's
 * placeholder.
 */
export async function validateImage(bytes: Buffer, options: ValidateOptions): Promise<Validation> {
  const inspected = await inspectImage(bytes, options);
  return 'ok' in inspected ? inspected : decodeImage(bytes, inspected, options);
}

export interface ResizeOptions {
  /** Shrink so the shorter side is at most this (give this or `max`, not both). */
  shorter?: number;
  /** Shrink so the longer side is at most this. */
  max?: number;
  /** JPEG quality of re-encoded images. Default 90. */
  quality?: number;
}

/** Resizes (never enlarges) and re-encodes as JPEG, EXIF orientation applied. */
export async function resizeImage(bytes: Buffer, options: ResizeOptions): Promise<Buffer> {
  // sharp keeps only the last resize of a pipeline, so exactly one of the two applies.
  const side = options.shorter ?? options.max;
  // The same leniency as validateImage: an image it accepted (libjpeg warnings allowed) must resize.
  let pipeline = sharp(bytes, { failOn: 'truncated' }).rotate();
  if (side)
    pipeline = pipeline.resize({
      width: side,
      height: side,
      fit: options.shorter ? 'outside' : 'inside',
      withoutEnlargement: true,
    });
  return pipeline
    .flatten({ background: '#000' })
    .jpeg({ quality: options.quality ?? 90 })
    .toBuffer();
}
