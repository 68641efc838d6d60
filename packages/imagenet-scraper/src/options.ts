import { notPositiveInteger, ScrapeConfigError } from './errors';
import type { ScrapeOptions } from './scrape';

export const USER_AGENT =
  'resnet-ts-imagenet-scraper/0.1 (+https://github.com/resnet-ts/resnet-ts; dataset research)';

/** Every option's default, in one place. */
const DEFAULTS = {
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
  // Zero would leave every download waiting for a slot that never frees.
  for (const name of ['concurrency', 'perHost'] as const) {
    if (!isPositiveInteger(settings[name])) throw notPositiveInteger(name, settings[name]);
  }
  return settings;
}
