import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, errors, request } from 'undici';

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
  | 'small-dimensions'
  | 'placeholder'
  | 'duplicate';

export interface FetchOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  /** Whole-request deadline per attempt, ms (connect, headers and body have the agent's own). */
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** Retries of transient failures (timeouts, network errors, 429, 5xx). */
  retries: number;
  backoffMs: number;
  /** Longest Retry-After honoured; a longer one gives up on the URL. */
  maxRetryAfterMs: number;
  /** Reject responses whose X-Robots-Tag says noai or noimageai. */
  respectNoAi: boolean;
  /** Cancels the request (a class reached its quota). */
  signal?: AbortSignal;
}

export type FetchOutcome =
  | { ok: true; bytes: Buffer; contentType: string; finalUrl: string; attempts: number }
  | { ok: false; kind: ErrorKind | 'cancelled'; status?: number; message: string; attempts: number };

type Attempt =
  | { ok: true; bytes: Buffer; contentType: string; finalUrl: string }
  | {
      ok: false;
      kind: ErrorKind | 'cancelled';
      status?: number;
      message: string;
      transient: boolean;
      retryAfterMs?: number;
    };

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const header = (headers: Record<string, string | string[] | undefined>, name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
};

async function attempt(url: string, options: FetchOptions): Promise<Attempt> {
  const visited = new Set<string>();
  let current = url;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    for (let hop = 0; ; hop++) {
      let parsed: URL;
      try {
        parsed = new URL(current);
      } catch {
        return { ok: false, kind: 'invalid-url', message: `not a URL: ${current}`, transient: false };
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        return {
          ok: false,
          kind: 'invalid-url',
          message: `only http(s) is fetched, not ${parsed.protocol}`,
          transient: false,
        };
      }
      visited.add(parsed.href);
      const response = await request(parsed, {
        dispatcher: options.dispatcher,
        method: 'GET',
        headers: { 'user-agent': options.userAgent, accept: 'image/*' },
        signal,
      });
      const { statusCode, headers, body } = response;
      if (statusCode >= 300 && statusCode < 400 && headers.location) {
        await body.dump();
        const next = new URL(header(headers, 'location'), parsed).href;
        if (visited.has(next))
          return {
            ok: false,
            kind: 'redirects',
            status: statusCode,
            message: `redirect loop at ${next}`,
            transient: false,
          };
        if (hop + 1 > options.maxRedirects)
          return {
            ok: false,
            kind: 'redirects',
            status: statusCode,
            message: `more than ${options.maxRedirects} redirects`,
            transient: false,
          };
        current = next;
        continue;
      }
      if (statusCode !== 200) {
        await body.dump();
        const retryAfterMs = parseRetryAfter(headers['retry-after']);
        return {
          ok: false,
          kind: statusCode === 429 ? 'rate-limited' : 'http-status',
          status: statusCode,
          message: `HTTP ${statusCode}`,
          transient: TRANSIENT_STATUS.has(statusCode),
          retryAfterMs,
        };
      }
      if (options.respectNoAi && /\bno(image)?ai\b/i.test(header(headers, 'x-robots-tag'))) {
        await body.dump();
        return {
          ok: false,
          kind: 'robots',
          status: 200,
          message: `X-Robots-Tag: ${header(headers, 'x-robots-tag')}`,
          transient: false,
        };
      }
      const contentType = header(headers, 'content-type');
      if (!contentType.toLowerCase().includes('image')) {
        await body.dump();
        return {
          ok: false,
          kind: 'content-type',
          status: 200,
          message: `content-type ${contentType || '(none)'}`,
          transient: false,
        };
      }
      const declared = Number(header(headers, 'content-length'));
      if (declared > options.maxBytes) {
        body.destroy();
        return {
          ok: false,
          kind: 'too-large',
          status: 200,
          message: `content-length ${declared} > ${options.maxBytes}`,
          transient: false,
        };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > options.maxBytes) {
          body.destroy();
          return {
            ok: false,
            kind: 'too-large',
            status: 200,
            message: `body over ${options.maxBytes} bytes`,
            transient: false,
          };
        }
        chunks.push(chunk as Buffer);
      }
      return { ok: true, bytes: Buffer.concat(chunks, size), contentType, finalUrl: parsed.href };
    }
  } catch (error) {
    if (options.signal?.aborted)
      return { ok: false, kind: 'cancelled', message: 'cancelled', transient: false };
    const e = error as Error & { code?: string };
    const timedOut =
      deadline.aborted ||
      e instanceof errors.HeadersTimeoutError ||
      e instanceof errors.BodyTimeoutError ||
      e instanceof errors.ConnectTimeoutError;
    if (timedOut)
      return { ok: false, kind: 'timeout', message: `timed out (${e.code ?? e.name})`, transient: true };
    if (
      e instanceof errors.RequestContentLengthMismatchError ||
      e instanceof errors.ResponseContentLengthMismatchError
    ) {
      return { ok: false, kind: 'network', message: 'body shorter than its content-length', transient: true };
    }
    return { ok: false, kind: 'network', message: e.code ?? e.message, transient: true };
  }
}

/**
 * Downloads one URL: http(s) only, redirects followed by hand (limit, loop detection), size and
 * content-type checked, transient failures retried with exponential backoff and jitter (Retry-After
 * honoured). Never throws: failures come back with a kind.
 */
export async function fetchImage(url: string, options: FetchOptions): Promise<FetchOutcome> {
  for (let attempts = 1; ; attempts++) {
    const result = await attempt(url, options);
    if (result.ok) return { ...result, attempts };
    const exhausted = attempts > options.retries;
    const wait = result.retryAfterMs ?? options.backoffMs * 2 ** (attempts - 1) * (0.5 + Math.random() * 0.5);
    if (!result.transient || exhausted || wait > options.maxRetryAfterMs) {
      const { transient: _, retryAfterMs: __, ...failure } = result;
      return { ...failure, attempts };
    }
    try {
      await sleep(wait, undefined, { signal: options.signal });
    } catch {
      return { ok: false, kind: 'cancelled', message: 'cancelled', attempts };
    }
  }
}
