import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, errors, request } from 'undici';
import { CANCELLED, type Cancelled, type Failure, fail, isTransient } from './errors';

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
  | ({ ok: false; attempts: number } & (Failure | Cancelled));

type Attempt =
  | { ok: true; bytes: Buffer; contentType: string; finalUrl: string }
  | { ok: false; problem: Failure | Cancelled; retryAfterMs?: number };
type Response = Dispatcher.ResponseData;

const refuse = (problem: Failure | Cancelled, retryAfterMs?: number): Attempt => ({
  ok: false,
  problem,
  retryAfterMs,
});

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

/** An http(s) URL, or why not. */
function httpUrl(text: string): URL | Failure {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return fail.notUrl(text);
  }
  return parsed.protocol === 'http:' || parsed.protocol === 'https:'
    ? parsed
    : fail.protocol(parsed.protocol);
}

/** One try: redirects followed by hand (limit, loop detection), under a whole-request deadline. */
async function attempt(url: string, options: FetchOptions): Promise<Attempt> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    const visited = new Set<string>();
    let current = url;
    for (let hop = 0; ; hop++) {
      const parsed = httpUrl(current);
      if (!(parsed instanceof URL)) return refuse(parsed);
      visited.add(parsed.href);
      const response = await request(parsed, {
        dispatcher: options.dispatcher,
        method: 'GET',
        headers: { 'user-agent': options.userAgent, accept: 'image/*' },
        signal,
      });
      const { statusCode, headers, body } = response;
      // Awaited here, so that what reading the body throws is caught below.
      if (!(statusCode >= 300 && statusCode < 400 && headers.location))
        return await accept(response, parsed.href, options);
      await body.dump();
      const next = new URL(header(headers, 'location'), parsed).href;
      if (visited.has(next)) return refuse(fail.redirectLoop(next, statusCode));
      if (hop + 1 > options.maxRedirects)
        return refuse(fail.tooManyRedirects(options.maxRedirects, statusCode));
      current = next;
    }
  } catch (error) {
    return refuse(options.signal?.aborted ? CANCELLED : thrown(error, deadline));
  }
}

/** A final (non-redirect) response: its status and headers checked, then its body read. */
async function accept(response: Response, finalUrl: string, options: FetchOptions): Promise<Attempt> {
  const { statusCode, headers, body } = response;
  const dumped = async (problem: Failure, retryAfterMs?: number) => {
    await body.dump();
    return refuse(problem, retryAfterMs);
  };
  if (statusCode !== 200) return dumped(fail.httpStatus(statusCode), parseRetryAfter(headers['retry-after']));
  const robots = header(headers, 'x-robots-tag');
  if (options.respectNoAi && /\bno(image)?ai\b/i.test(robots)) return dumped(fail.robots(robots));
  const contentType = header(headers, 'content-type');
  if (!contentType.toLowerCase().includes('image')) return dumped(fail.contentType(contentType));
  const declared = Number(header(headers, 'content-length'));
  if (declared > options.maxBytes) {
    body.destroy();
    return refuse(fail.declaredTooLarge(declared, options.maxBytes));
  }
  const bytes = await readBody(body, options.maxBytes);
  if (!bytes) return refuse(fail.bodyTooLarge(options.maxBytes));
  return { ok: true, bytes, contentType, finalUrl };
}

/** The whole body, or undefined once it passes `maxBytes` (the rest is not read). */
async function readBody(body: Response['body'], maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** What a thrown request error means: a timeout, a short body or another network failure. */
function thrown(error: unknown, deadline: AbortSignal): Failure {
  const e = error as Error & { code?: string };
  const timedOut =
    deadline.aborted ||
    e instanceof errors.HeadersTimeoutError ||
    e instanceof errors.BodyTimeoutError ||
    e instanceof errors.ConnectTimeoutError;
  if (timedOut) return fail.timeout(e.code ?? e.name);
  if (
    e instanceof errors.RequestContentLengthMismatchError ||
    e instanceof errors.ResponseContentLengthMismatchError
  ) {
    return fail.shortBody();
  }
  return fail.network(e.code ?? e.message);
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
    if (!isTransient(result.problem) || exhausted || wait > options.maxRetryAfterMs) {
      return { ok: false, ...result.problem, attempts };
    }
    try {
      await sleep(wait, undefined, { signal: options.signal });
    } catch {
      return { ok: false, ...CANCELLED, attempts };
    }
  }
}
