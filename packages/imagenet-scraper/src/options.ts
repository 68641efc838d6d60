import os from 'node:os';
import { notPositiveInteger, ScrapeConfigError } from './errors';
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
  placeholderHashes: [] as string[],
  debugCsv: false,
  statsEveryMs: 2000,
};

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
  for (const name of ['concurrency', 'perHost', 'maxPixels', 'decodeMemoryBytes'] as const) {
    if (!isPositiveInteger(settings[name])) throw notPositiveInteger(name, settings[name]);
  }
  return settings;
}
