import os from 'node:os';
import { notPositiveInteger, ScrapeConfigError } from './errors';
import { FLICKR_PLACEHOLDER_DHASH, isDHash, isSha256 } from './phash';
import type { ScrapeOptions } from './scrape';

export const USER_AGENT =
  'resnet-ts-imagenet-scraper/0.1 (+https://github.com/resnet-ts/resnet-ts; dataset research)';

/** Every option's default, in one place. */
export const DEFAULTS = {
  flickrOnly: false,
  concurrency: 64,
  perHost: 8,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 15_000,
  timeoutMs: 30_000,
  maxBytes: 20 << 20,
  minBytes: 1000,
  minWidth: 32,
  minHeight: 32,
  // 50 MP (8,660 × 5,770) passes a 48 MP phone photo; far beyond what a dataset image needs.
  maxPixels: 50_000_000,
  // Decoded pixels held at once: 1 GiB, or a quarter of a smaller machine's memory.
  decodeMemoryBytes: Math.min(2 ** 30, Math.floor(os.totalmem() / 4)),
  maxRedirects: 5,
  retries: 2,
  backoffMs: 500,
  maxRetryAfterMs: 30_000,
  respectNoAi: true,
  userAgent: USER_AGENT,
  // The shipped look-alike of Flickr's "no longer available" card; a given list replaces it.
  placeholderHashes: [FLICKR_PLACEHOLDER_DHASH] as string[],
  placeholderDistance: 5,
  debugCsv: false,
  statsEveryMs: 2000,
  outputFormat: 'folder' as OutputFormat,
  shardSize: 1000,
  shardPrefix: 'shard',
};

/** Class folders, or WebDataset tar shards (`webdataset.ts`). */
export type OutputFormat = 'folder' | 'webdataset';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['folder', 'webdataset'];

/** Options with their defaults filled in, checked. */
export type Settings = ScrapeOptions & typeof DEFAULTS;

const isPositiveInteger = (value: number) => Number.isInteger(value) && value >= 1;

/** Checks the options (before anything touches the disk) and fills in the defaults. */
export function resolveOptions(options: ScrapeOptions): Settings {
  if (!isPositiveInteger(options.perClass)) throw notPositiveInteger('perClass', options.perClass);
  if (options.resize?.shorter && options.resize.max) {
    throw new ScrapeConfigError('resize: give the shorter side or the longer side, not both');
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const settings = { ...DEFAULTS, ...defined } as Settings;
  // Zero would leave every download waiting for a slot that never frees (or refuse every image).
  for (const name of ['concurrency', 'perHost', 'maxPixels', 'decodeMemoryBytes', 'shardSize'] as const) {
    if (!isPositiveInteger(settings[name])) throw notPositiveInteger(name, settings[name]);
  }
  if (!OUTPUT_FORMATS.includes(settings.outputFormat))
    throw new ScrapeConfigError(
      `outputFormat: expected ${OUTPUT_FORMATS.join(' or ')}, got ${JSON.stringify(settings.outputFormat)}`,
    );
  // Part of file names, and of the brace patterns readers give (`shard-{000000..000009}.tar`).
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(settings.shardPrefix))
    throw new ScrapeConfigError(
      `shardPrefix: expected up to 64 letters, digits, - and _, got ${JSON.stringify(settings.shardPrefix)}`,
    );
  for (const hash of settings.placeholderHashes)
    if (!isSha256(hash) && !isDHash(hash))
      throw new ScrapeConfigError(
        `placeholderHashes: expected a sha256 (64 hex digits) or a dHash (16), got "${hash}"`,
      );
  const distance = settings.placeholderDistance;
  if (!Number.isInteger(distance) || distance < 0 || distance > 64)
    throw new ScrapeConfigError(`placeholderDistance: expected an integer from 0 to 64, got ${distance}`);
  return settings;
}
