import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { type FetchOptions, fetchImage, parseRetryAfter } from './fetch';
import { HostGate } from './limits';
import { type FaultServer, startFaultServer } from './testing/server';

let server: FaultServer;
let agent: Agent;
beforeAll(async () => {
  server = await startFaultServer();
  agent = new Agent({ headersTimeout: 200, bodyTimeout: 200, connectTimeout: 1000 });
});
afterAll(async () => {
  await agent.close();
  await server.close();
});

const options = (extra: Partial<FetchOptions> = {}): FetchOptions => ({
  dispatcher: agent,
  userAgent: 'test',
  timeoutMs: 5000,
  headersTimeoutMs: 200,
  bodyTimeoutMs: 200,
  connectTimeoutMs: 1000,
  maxBytes: 1 << 20,
  maxRedirects: 5,
  retries: 0,
  backoffMs: 10,
  maxRetryAfterMs: 5000,
  respectNoAi: true,
  ...extra,
});

describe('Retry-After', () => {
  it('a date in the past is 0; only delta-seconds or an HTTP date count', () => {
    expect(parseRetryAfter(new Date(1_000).toUTCString(), 60_000)).toBe(0);
    expect(parseRetryAfter(' 2 ')).toBe(2000);
    expect(parseRetryAfter('-5')).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
  });

  it('a date in the past retries after the backoff, not never and not at once', async () => {
    const started = Date.now();
    const fetched = await fetchImage(`${server.base}/past/1`, options({ retries: 1, backoffMs: 50 }));
    expect(fetched).toMatchObject({ ok: true, attempts: 2 });
    const [first, second] = server.log.filter((r) => r.url === '/past/1');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(20); // the backoff's jitter floor: half of 50
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('holds back every request to the host while one URL waits, not only that URL', async () => {
    const hosts = new HostGate();
    const host = new URL(server.base).host;
    const first = fetchImage(`${server.base}/hold/1`, options({ retries: 1, hosts }));
    // Once the 429 is in, the host is held: a second URL of the host waits for the hold too.
    while (hosts.heldFor(host) === 0) await sleep(5);
    const second = fetchImage(`${server.base}/hold/2`, options({ hosts }));
    expect(await Promise.all([first, second])).toMatchObject([
      { ok: true, attempts: 2 },
      { ok: true, attempts: 1 },
    ]);
    const at = (url: string) => server.log.filter((r) => r.url === url).map((r) => r.at);
    const [refused] = at('/hold/1');
    // Retry-After: 1 is whole seconds; allow the clock's rounding.
    expect(at('/hold/2')[0]! - refused!).toBeGreaterThanOrEqual(950);
    expect(at('/hold/1')[1]! - refused!).toBeGreaterThanOrEqual(950);
  });

  it('a Retry-After over maxRetryAfterMs gives the URL up and holds the host only that long', async () => {
    const fresh = await startFaultServer();
    try {
      const hosts = new HostGate();
      const fetched = await fetchImage(
        `${fresh.base}/hold/1`,
        options({ retries: 2, maxRetryAfterMs: 300, hosts }),
      );
      expect(fetched).toMatchObject({ ok: false, kind: 'rate-limited', attempts: 1 });
      const held = hosts.heldFor(new URL(fresh.base).host);
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(300);
    } finally {
      await fresh.close();
    }
  });

  it('cancelling stops the wait for a held host', async () => {
    const hosts = new HostGate();
    hosts.defer('example.test', 10_000);
    expect(hosts.heldFor('example.test')).toBeGreaterThan(9000);
    const stop = new AbortController();
    const waiting = hosts.wait('example.test', stop.signal);
    stop.abort();
    await expect(waiting).rejects.toThrow();
    const gated = new HostGate();
    gated.defer(new URL(server.base).host, 10_000);
    const cancel = new AbortController();
    const fetching = fetchImage(`${server.base}/img/1.jpg`, options({ hosts: gated, signal: cancel.signal }));
    cancel.abort();
    expect(await fetching).toMatchObject({ ok: false, kind: 'cancelled' });
  });
});

describe('timeout messages', () => {
  it('say what timed out and after how long', async () => {
    expect(await fetchImage(`${server.base}/slow-headers`, options())).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: 'timed out: no response headers within 0.2 s',
    });
    expect(await fetchImage(`${server.base}/slow-body`, options())).toMatchObject({
      kind: 'timeout',
      message: 'timed out: the body stalled, no data within 0.2 s',
    });
    const patient = new Agent({ headersTimeout: 10_000, bodyTimeout: 10_000 });
    try {
      expect(
        await fetchImage(`${server.base}/slow-body`, options({ dispatcher: patient, timeoutMs: 300 })),
      ).toMatchObject({ kind: 'timeout', message: 'timed out: the whole request took over 0.3 s' });
    } finally {
      await patient.close();
    }
  });
});

describe('the downloader', () => {
  it('shares one host hold across its slots', async () => {
    const { createDownloader } = await import('./download');
    const { resolveOptions } = await import('./options');
    const fresh = await startFaultServer();
    const downloader = createDownloader(
      resolveOptions({ out: '', classes: [], urls: new Map(), perClass: 1, retries: 1, backoffMs: 10 }),
    );
    try {
      const signal = new AbortController().signal;
      const first = downloader.download(`${fresh.base}/hold/1`, signal);
      while (!fresh.log.some((r) => r.url === '/hold/1')) await sleep(5);
      await sleep(50); // the 429 is answered and read
      const second = downloader.download(`${fresh.base}/hold/2`, signal);
      expect((await Promise.all([first, second])).map((f) => f.status)).toEqual(['fetched', 'fetched']);
      const [refused, retried] = fresh.log.filter((r) => r.url === '/hold/1').map((r) => r.at);
      const other = fresh.log.find((r) => r.url === '/hold/2')?.at;
      expect(retried! - refused!).toBeGreaterThanOrEqual(950);
      expect(other! - refused!).toBeGreaterThanOrEqual(950);
    } finally {
      await downloader.close();
      await fresh.close();
    }
  });
});
