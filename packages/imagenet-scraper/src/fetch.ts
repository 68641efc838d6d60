import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, errors, request } from 'undici';
import { CANCELLED, type Cancelled, type Failure, fail, isTransient } from './errors';
import { HostGate, type HostLimits } from './limits';

export interface FetchOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  /** Whole-request deadline per attempt, ms (connect, headers and body have the agent's own). */
  timeoutMs: number;
  /** The dispatcher's connect, headers and body timeouts, ms: only named in timeout messages. */
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxBytes: number;
  maxRedirects: number;
  /** Retries of transient failures (timeouts, network errors, 429, 5xx). */
  retries: number;
  backoffMs: number;
  /** Longest Retry-After honoured; a longer one gives up on the URL. */
  maxRetryAfterMs: number;
  /** Reject responses whose X-Robots-Tag says noai or noimageai. */
  respectNoAi: boolean;
  /**
   * Retry-After holds, shared across requests: while a host asked to wait, no request goes to it.
   * Without one, a hold applies to this URL's retries only.
   */
  hosts?: Pick<HostLimits, 'wait' | 'defer'>;
  /** Cancels the request (a class reached its quota). */
  signal?: AbortSignal;
}

export type FetchOutcome =
  | { ok: true; bytes: Buffer; contentType: string; finalUrl: string; attempts: number }
  | ({ ok: false; attempts: number } & (Failure | Cancelled));

/** What a final response must be, beyond status 200 and the size cap. */
interface Expectation {
  accept: string;
  /** Why the response is refused, from its headers, or undefined. */
  refuse(headers: Headers, options: FetchOptions): Failure | undefined;
}

type Headers = Record<string, string | string[] | undefined>;

type Attempt =
  | { ok: true; bytes: Buffer; contentType: string; finalUrl: string }
  | { ok: false; problem: Failure | Cancelled; retryAfter?: { host: string; ms: number } };
type Response = Dispatcher.ResponseData;

const refuse = (problem: Failure | Cancelled, retryAfter?: { host: string; ms: number }): Attempt => ({
  ok: false,
  problem,
  retryAfter,
});

/** Retry-After in ms: delta-seconds or an HTTP date (one in the past is 0). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only an HTTP date: Date.parse would also take "-5" or "1.5" as (odd) dates.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const header = (headers: Headers, name: string) => {
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
async function attempt(url: string, options: FetchOptions, expect: Expectation): Promise<Attempt> {
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
        headers: { 'user-agent': options.userAgent, accept: expect.accept },
        signal,
      });
      const { statusCode, headers, body } = response;
      // Awaited here, so that what reading the body throws is caught below.
      if (!(statusCode >= 300 && statusCode < 400 && headers.location))
        return await accept(response, parsed, options, expect);
      await body.dump();
      const next = new URL(header(headers, 'location'), parsed).href;
      if (visited.has(next)) return refuse(fail.redirectLoop(next, statusCode));
      if (hop + 1 > options.maxRedirects)
        return refuse(fail.tooManyRedirects(options.maxRedirects, statusCode));
      current = next;
    }
  } catch (error) {
    return refuse(options.signal?.aborted ? CANCELLED : thrown(error, deadline, options));
  }
}

/** A final (non-redirect) response: its status and headers checked, then its body read. */
async function accept(
  response: Response,
  url: URL,
  options: FetchOptions,
  expect: Expectation,
): Promise<Attempt> {
  const { statusCode, headers, body } = response;
  const dumped = async (problem: Failure, retryAfter?: { host: string; ms: number }) => {
    await body.dump();
    return refuse(problem, retryAfter);
  };
  if (statusCode !== 200) {
    const ms = parseRetryAfter(headers['retry-after']);
    return dumped(fail.httpStatus(statusCode), ms === undefined ? undefined : { host: url.host, ms });
  }
  const refused = expect.refuse(headers, options);
  if (refused) return dumped(refused);
  const declared = Number(header(headers, 'content-length'));
  if (declared > options.maxBytes) {
    body.destroy();
    return refuse(fail.declaredTooLarge(declared, options.maxBytes));
  }
  const bytes = await readBody(body, options.maxBytes);
  if (!bytes) return refuse(fail.bodyTooLarge(options.maxBytes));
  return { ok: true, bytes, contentType: header(headers, 'content-type'), finalUrl: url.href };
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

/** "15 s", "0.4 s"; "in time" where the limit is not known. */
const within = (ms: number | undefined) => (ms === undefined ? 'in time' : `within ${ms / 1000} s`);

/** What a thrown request error means: a timeout (which one), a short body or another network failure. */
function thrown(error: unknown, deadline: AbortSignal, options: FetchOptions): Failure {
  const e = error as Error & { code?: string };
  // The agent's own timeouts first: the deadline may have passed while one was being reported.
  if (e instanceof errors.ConnectTimeoutError)
    return fail.timeout(`no connection ${within(options.connectTimeoutMs)}`);
  if (e instanceof errors.HeadersTimeoutError)
    return fail.timeout(`no response headers ${within(options.headersTimeoutMs)}`);
  if (e instanceof errors.BodyTimeoutError)
    return fail.timeout(`the body stalled, no data ${within(options.bodyTimeoutMs)}`);
  if (deadline.aborted) return fail.timeout(`the whole request took over ${options.timeoutMs / 1000} s`);
  if (
    e instanceof errors.RequestContentLengthMismatchError ||
    e instanceof errors.ResponseContentLengthMismatchError
  ) {
    return fail.shortBody();
  }
  return fail.network(e.code ?? e.message);
}

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).host;
  } catch {
    return undefined; // the attempt reports the bad URL
  }
};

/**
 * Downloads one URL: http(s) only, redirects followed by hand (limit, loop detection), the size
 * capped, transient failures retried with exponential backoff and jitter. A Retry-After holds back
 * the host (for every request sharing `options.hosts`), at least the backoff. Never throws.
 */
async function fetchWith(url: string, options: FetchOptions, expect: Expectation): Promise<FetchOutcome> {
  const hosts = options.hosts ?? new HostGate();
  const host = hostOf(url);
  for (let attempts = 1; ; attempts++) {
    let result: Attempt;
    try {
      if (host) await hosts.wait(host, options.signal);
      result = await attempt(url, options, expect);
    } catch {
      return { ok: false, ...CANCELLED, attempts }; // aborted while the host was held back
    }
    if (result.ok) return { ...result, attempts };
    const exhausted = attempts > options.retries;
    const retryAfter = result.retryAfter;
    const tooLong = retryAfter !== undefined && retryAfter.ms > options.maxRetryAfterMs;
    // Other URLs of the host wait too, but never longer than a hold this run would honour.
    if (retryAfter && isTransient(result.problem))
      hosts.defer(retryAfter.host, Math.min(retryAfter.ms, options.maxRetryAfterMs));
    if (!isTransient(result.problem) || exhausted || tooLong) {
      return { ok: false, ...result.problem, attempts };
    }
    try {
      await sleep(options.backoffMs * 2 ** (attempts - 1) * (0.5 + Math.random() * 0.5), undefined, {
        signal: options.signal,
      });
    } catch {
      return { ok: false, ...CANCELLED, attempts };
    }
  }
}

const IMAGE: Expectation = {
  accept: 'image/*',
  refuse(headers, options) {
    const robots = header(headers, 'x-robots-tag');
    if (options.respectNoAi && /\bno(image)?ai\b/i.test(robots)) return fail.robots(robots);
    const contentType = header(headers, 'content-type');
    if (!contentType.toLowerCase().includes('image')) return fail.contentType(contentType);
    return undefined;
  },
};

// A URL list is text of any declared type (servers label plain lists every which way).
const LIST: Expectation = { accept: 'text/plain, */*;q=0.5', refuse: () => undefined };

/**
 * Downloads one image URL: http(s) only, redirects followed by hand (limit, loop detection), size
 * and content-type checked, transient failures retried with exponential backoff and jitter
 * (Retry-After honoured, per host with `options.hosts`). Never throws: failures come back with a kind.
 */
export function fetchImage(url: string, options: FetchOptions): Promise<FetchOutcome> {
  return fetchWith(url, options, IMAGE);
}

/** Downloads a URL list with the same limits, retries and messages as an image (any content-type). */
export function fetchList(url: string, options: FetchOptions): Promise<FetchOutcome> {
  return fetchWith(url, options, LIST);
}
