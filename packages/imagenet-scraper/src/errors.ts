/**
 * Every way the scraper reports a problem, and every message it gives: a URL's failure kind (kept
 * in its manifest line, counted in the statistics), the statuses a URL can settle with, a bad
 * option (`ScrapeConfigError`) and the local write failure that stops a run.
 */

/** Why a URL did not give an image. Every failure has one; nothing throws. */
export type ErrorKind =
  | 'invalid-url'
  | 'http-status'
  | 'rate-limited'
  | 'timeout'
  | 'network'
  | 'redirects'
  | 'robots'
  | 'content-type'
  | 'too-large'
  | 'too-small'
  | 'not-image'
  | 'corrupt'
  | 'decompression-bomb'
  | 'small-dimensions'
  | 'placeholder'
  | 'duplicate';

/** What a tried URL gave: an image, a failure (with a kind), or an image already saved. */
export type TriedStatus = 'ok' | 'failed' | 'duplicate';

/** A manifest line's status: a tried URL's, or `unneeded` (left untried once its class was full). */
export type UrlStatus = TriedStatus | 'unneeded';

/** A URL given up on: its kind, the HTTP status where there was one, and why. */
export interface Failure {
  kind: ErrorKind;
  status?: number;
  message: string;
}

/** A request stopped because its class is full or the run was stopped: never recorded. */
export interface Cancelled {
  kind: 'cancelled';
  status?: number;
  message: string;
}

export const CANCELLED: Cancelled = { kind: 'cancelled', message: 'cancelled' };

const failure = (kind: ErrorKind, message: string, status?: number): Failure =>
  status === undefined ? { kind, message } : { kind, status, message };

/** The first line of an error's message (sharp's run on over several). */
export const firstLine = (error: unknown): string => (error as Error).message.split('\n')[0] ?? 'undecodable';

const megapixels = (pixels: number) => String(Math.round(pixels / 1e5) / 10);

/** One constructor per way a URL fails; the message is the manifest's `message`. */
export const fail = {
  notUrl: (url: string) => failure('invalid-url', `not a URL: ${url}`),
  protocol: (protocol: string) => failure('invalid-url', `only http(s) is fetched, not ${protocol}`),
  redirectLoop: (to: string, status: number) => failure('redirects', `redirect loop at ${to}`, status),
  tooManyRedirects: (max: number, status: number) =>
    failure('redirects', `more than ${max} redirects`, status),
  httpStatus: (status: number) =>
    failure(status === 429 ? 'rate-limited' : 'http-status', `HTTP ${status}`, status),
  robots: (tag: string) => failure('robots', `X-Robots-Tag: ${tag}`, 200),
  contentType: (type: string) => failure('content-type', `content-type ${type || '(none)'}`, 200),
  declaredTooLarge: (declared: number, max: number) =>
    failure('too-large', `content-length ${declared} > ${max}`, 200),
  bodyTooLarge: (max: number) => failure('too-large', `body over ${max} bytes`, 200),
  /** `what`: which limit ran out, and after how long ("no response headers within 15 s"). */
  timeout: (what: string) => failure('timeout', `timed out: ${what}`),
  shortBody: () => failure('network', 'body shorter than its content-length'),
  network: (code: string) => failure('network', code),
  tooSmall: (bytes: number, min: number) => failure('too-small', `${bytes} bytes < ${min}`),
  notImage: () => failure('not-image', 'no JPEG, PNG, GIF or WebP signature'),
  knownPlaceholder: () => failure('placeholder', 'a known placeholder image'),
  corrupt: (error: unknown) => failure('corrupt', firstLine(error)),
  /** More pixels than `maxPixels`: refused from the header, before any decode. */
  decompressionBomb: (width: number, height: number, maxPixels: number) =>
    failure(
      'decompression-bomb',
      `${width}×${height} = ${megapixels(width * height)} MP > the ${megapixels(maxPixels)} MP limit (maxPixels)`,
    ),
  unresizable: (error: unknown) => failure('corrupt', `resize: ${firstLine(error)}`),
  smallDimensions: (width: number, height: number, minWidth: number, minHeight: number) =>
    failure('small-dimensions', `${width}×${height} < ${minWidth}×${minHeight}`),
  lookalikePlaceholder: (dHash: string, distance: number) =>
    failure('placeholder', `looks like a known placeholder (dHash ${distance} bits from ${dHash})`),
  flatCard: (width: number, height: number) =>
    failure('placeholder', `a flat ${width}×${height} card (Flickr's "photo unavailable")`),
};

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Worth retrying: timeouts, network errors, 408, 429 and 5xx. */
export function isTransient(problem: Failure | Cancelled): boolean {
  if (problem.kind === 'timeout' || problem.kind === 'network') return true;
  const byStatus = problem.kind === 'http-status' || problem.kind === 'rate-limited';
  return byStatus && TRANSIENT_STATUS.has(problem.status ?? 0);
}

/** A bad option or input: the message names it. */
export class ScrapeConfigError extends Error {
  override name = 'ScrapeConfigError';
}

export const notPositiveInteger = (name: string, value: unknown) =>
  new ScrapeConfigError(`${name}: expected a positive integer, got ${value}`);

/** A local failure (disk full, permissions) is not the URL's fault: it stops the run. */
export const writeFailed = (out: string, error: unknown) =>
  new Error(`${out}: cannot write downloads (${(error as Error).message})`);
