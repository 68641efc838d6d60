import { Agent } from 'undici';
import { fetchImage } from './fetch';
import { type HostLimits, localHostLimits, Semaphore } from './limits';
import type { Settings } from './options';
import type { Fetched } from './stages';

/** Stage 2: one URL's body, or why there is none. Throws only when shared host limits fail (Redis lost). */
export interface Downloader {
  download(url: string, signal: AbortSignal): Promise<Fetched>;
  close(): Promise<void>;
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid'; // fetchImage reports the bad URL
  }
};

/**
 * Keep-alive pools with `perHost` connections, at most `perHost` requests per host and
 * `concurrency` in all at once (one budget for every class of the run), and a host's Retry-After
 * honoured by every request to it. `hosts` holds the per-host limits: this process's by default,
 * or ones shared by every worker (`redisHostLimits`); `close()` closes it too.
 */
export function createDownloader(
  settings: Settings,
  hosts: HostLimits = localHostLimits(settings.perHost),
): Downloader {
  const agent = new Agent({
    connections: settings.perHost,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    connectTimeout: settings.connectTimeoutMs,
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
  });
  const slots = new Semaphore(settings.concurrency);
  const fetchOptions = {
    dispatcher: agent,
    userAgent: settings.userAgent,
    timeoutMs: settings.timeoutMs,
    connectTimeoutMs: settings.connectTimeoutMs,
    headersTimeoutMs: settings.headersTimeoutMs,
    bodyTimeoutMs: settings.bodyTimeoutMs,
    // One for the run: a host's Retry-After holds back every slot, not only the URL that got it.
    hosts,
    maxBytes: settings.maxBytes,
    maxRedirects: settings.maxRedirects,
    retries: settings.retries,
    backoffMs: settings.backoffMs,
    maxRetryAfterMs: settings.maxRetryAfterMs,
    respectNoAi: settings.respectNoAi,
  };
  return {
    async download(url, signal) {
      // The host first, then a run-wide slot: a request queued for a busy host holds no slot.
      let releaseHost: (() => void) | undefined;
      let releaseSlot: (() => void) | undefined;
      try {
        releaseHost = await hosts.acquire(hostOf(url), signal);
        releaseSlot = await slots.acquire(signal);
      } catch (error) {
        releaseHost?.();
        if (signal.aborted) return { status: 'cancelled' }; // aborted while queued
        throw error; // shared limits lost (Redis): not a cancelled download
      }
      const startedAt = performance.now();
      try {
        const fetched = await fetchImage(url, { ...fetchOptions, signal });
        if (fetched.ok) return { status: 'fetched', bytes: fetched.bytes, startedAt };
        const { ok: _, attempts: __, ...problem } = fetched;
        if (problem.kind === 'cancelled') return { status: 'cancelled' };
        return { status: 'failed', failure: problem, startedAt };
      } finally {
        releaseSlot();
        releaseHost();
      }
    },
    async close() {
      await Promise.all([agent.close().catch(() => undefined), hosts.close?.()]);
    },
  };
}
