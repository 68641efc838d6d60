import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ilsvrc2012Classes } from '../classes';
import { readManifest } from '../manifest';
import { type ScrapeOptions, scrape } from '../scrape';
import { type RedisServer, redisAvailable, startRedis } from '../testing/redis';
import { FAST_SCRAPE, type FaultServer, startFaultServer } from '../testing/server';
import { QueueError } from './connection';
import { scrapeWithQueue } from './coordinator';
import { queueStatus } from './status';
import { runWorker } from './worker';

const maybe = redisAvailable() ? describe : describe.skip;
const table = ilsvrc2012Classes();
const classes = ['n01440764', 'n01443537', 'n01484850'].map((w) => table.get(w)!);

let server: FaultServer;
let redis: RedisServer;
beforeAll(async () => {
  if (!redisAvailable()) return;
  server = await startFaultServer({ delayMs: 15 });
  redis = await startRedis();
});
afterAll(async () => {
  await server?.close();
  await redis?.stop();
});

const faults = [
  '/status/404',
  '/status/500',
  '/html200',
  '/truncated',
  '/cut.jpg',
  '/wrong-type',
  '/tiny',
  '/small-file',
  '/placeholder',
  '/bomb',
  '/loop/a',
  '/busy/7',
  '/slow-headers',
];

/** Three classes: good images among every fault, duplicates within a class and across classes. */
function lists(base: string): Map<string, string[]> {
  const list = (from: number) =>
    Array.from({ length: 24 }, (_, i) => {
      if (i % 4 === 1) return `${base}${faults[(from + i) % faults.length]}`;
      if (i === 6) return `${base}/dup/${from}.jpg`; // the same bytes as this class's first image
      if (i === 9 && from > 0) return `${base}/img/${from - 100 + 2}.jpg`; // the previous class's third
      // The next class's fourth, late here: the next class likely saves it first and gives it back.
      if (i === 8 && from < 200) return `${base}/img/${from + 103}.jpg`;
      return `${base}/img/${from + i}.jpg`;
    });
  return new Map(classes.map((c, k) => [c.wnid, list(k * 100)]));
}

const options = (out: string, base: string): ScrapeOptions => ({
  out,
  classes,
  urls: lists(base),
  perClass: 10,
  ...FAST_SCRAPE,
  perHost: 2,
});

const filesOf = (out: string) =>
  classes
    .flatMap((c) => {
      const dir = path.join(out, c.name);
      return existsSync(dir) ? readdirSync(dir).map((f) => `${c.name}/${f}`) : [];
    })
    .sort();

maybe('a scrape through a Redis queue', () => {
  let reference: string;
  beforeAll(async () => {
    reference = await mkdtemp(path.join(os.tmpdir(), 'queue-ref-'));
    await scrape(options(reference, server.base));
  });

  it('three workers write exactly what one machine writes, within the per-host limit', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'queue-'));
    server.inFlight.max = 0;
    const queue = { url: redis.url, name: 'three' };
    const workers = [0, 1, 2].map(() => runWorker({ queue, classesAtOnce: 1, lockMs: 4000 }));
    const report = await scrapeWithQueue({ ...options(out, server.base), queue });
    const done = await Promise.all(workers);
    expect(done.reduce((n, w) => n + w.classes, 0)).toBe(3);
    expect(filesOf(out)).toEqual(filesOf(reference));
    for (const c of classes) {
      expect(report.classes[c.wnid]).toMatchObject({ saved: 10, short: false });
      expect(readdirSync(path.join(out, c.name))).toHaveLength(10);
      // Up to its last image a class settled every URL in order: the same lines as one machine's.
      // (Beyond it, which URLs were tried depends on timing, on one machine too.)
      const settled = async (root: string) => {
        const lines = await readManifest(path.join(root, '.scrape', 'manifests', `${c.wnid}.jsonl`));
        const list = lists(server.base).get(c.wnid) ?? [];
        const byUrl = new Map(lines.filter((e) => e.status !== 'unneeded').map((e) => [e.url, e]));
        const last = Math.max(...list.map((u, i) => (byUrl.get(u)?.status === 'ok' ? i : -1)));
        for (const e of byUrl.values()) if (e.status === 'failed') expect(e.kind && e.message).toBeTruthy();
        return list.slice(0, last + 1).map((u) => [u, byUrl.get(u)?.status, byUrl.get(u)?.kind]);
      };
      expect(await settled(out)).toEqual(await settled(reference));
    }
    expect(server.inFlight.max).toBeLessThanOrEqual(2);
    expect(readdirSync(path.join(out, '.scrape', 'tmp'))).toEqual([]);
    const stats = JSON.parse(readFileSync(path.join(out, '.scrape', 'stats.json'), 'utf8'));
    expect(stats.succeeded).toBe(30);
    expect(stats.other.failures['decompression-bomb']).toBeGreaterThan(0);
    // The run is gone from Redis once it ended; the files are its record.
    expect(await queueStatus(queue)).toEqual({});
  }, 60_000);

  it('refuses a queue that holds another run, naming it', async () => {
    const queue = { url: redis.url, name: 'taken' };
    const first = await mkdtemp(path.join(os.tmpdir(), 'queue-a-'));
    const stop = new AbortController();
    const running = scrapeWithQueue({ ...options(first, server.base), queue, signal: stop.signal });
    for (let i = 0; i < 100 && !(await queueStatus(queue)).run; i++)
      await new Promise((r) => setTimeout(r, 50));
    const second = await mkdtemp(path.join(os.tmpdir(), 'queue-b-'));
    await expect(scrapeWithQueue({ ...options(second, server.base), queue })).rejects.toThrow(
      new RegExp(`queue: "taken" on redis://127\\.0\\.0\\.1:${redis.port} holds another run \\(out ${first}`),
    );
    stop.abort();
    await running;
  }, 30_000);

  it('an unreachable Redis is one clear line', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'queue-none-'));
    const queue = { url: 'redis://127.0.0.1:1' };
    await expect(scrapeWithQueue({ ...options(out, server.base), queue })).rejects.toThrow(
      /^queue: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED/,
    );
    await expect(runWorker({ queue })).rejects.toThrow(QueueError);
    await expect(
      scrapeWithQueue({ ...options(out, server.base), queue: { url: 'http://x' } }),
    ).rejects.toThrow('queue: expected a redis:// or rediss:// URL, got "http://x"');
  });
});

/** A worker in a child process (the built package), to be killed. */
function spawnWorker(config: object, dir: string, n: number) {
  const file = path.join(dir, `worker-${n}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'testing', 'run-worker.cjs'), file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  return { child, exit };
}

const imagesIn = (out: string) => filesOf(out).length;
const until = async (condition: () => boolean, timeoutMs = 20_000) => {
  for (const start = Date.now(); !condition(); ) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

maybe('queue workers that die, and a Redis that goes away', () => {
  let slow: FaultServer;
  let reference: string;
  beforeAll(async () => {
    slow = await startFaultServer({ delayMs: 60 });
    reference = await mkdtemp(path.join(os.tmpdir(), 'queue-ref-'));
    await scrape(options(reference, slow.base));
  });
  afterAll(() => slow?.close());

  it('SIGKILL one of three workers mid-run: the same files as an uninterrupted run', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'queue-kill-'));
    const queue = { url: redis.url, name: 'kill' };
    const config = { queue, classesAtOnce: 1, lockMs: 2000 };
    const workers = [0, 1, 2].map((n) => spawnWorker(config, out, n));
    const run = scrapeWithQueue({ ...options(out, slow.base), queue });
    await until(() => imagesIn(out) >= 6);
    workers[0]?.child.kill('SIGKILL');
    const report = await run;
    const exits = await Promise.all(workers.map((w) => w.exit));
    expect(exits.map((e) => e.code)).toEqual([null, 0, 0]); // null: killed
    expect(filesOf(out)).toEqual(filesOf(reference));
    for (const c of classes) expect(report.classes[c.wnid]?.saved).toBe(10);
    expect(readdirSync(path.join(out, '.scrape', 'tmp'))).toEqual([]);
  }, 90_000);

  it('SIGTERM stops a worker at once and its class goes straight back to the queue', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'queue-term-'));
    const queue = { url: redis.url, name: 'term' };
    // A 60 s lock: were the class left to the stalled-job check, the run would take a minute.
    const config = { queue, classesAtOnce: 3, lockMs: 60_000 };
    const workers = [0, 1].map((n) => spawnWorker(config, out, n));
    const run = scrapeWithQueue({ ...options(out, slow.base), queue });
    await until(() => imagesIn(out) >= 6);
    const stoppedAt = Date.now();
    workers[0]?.child.kill('SIGTERM');
    expect((await workers[0]?.exit)?.code).toBe(0);
    await run;
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    expect((await workers[1]?.exit)?.code).toBe(0);
    expect(filesOf(out)).toEqual(filesOf(reference));
  }, 90_000);

  it('Redis going away mid-run stops everyone with one line, nothing half-written; the rerun completes', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'queue-lost-'));
    const own = await startRedis();
    const queue = { url: own.url, name: 'lost' };
    const workers = [0, 1].map(() => runWorker({ queue, classesAtOnce: 2, lockMs: 2000 }));
    const run = scrapeWithQueue({ ...options(out, slow.base), queue });
    await until(() => imagesIn(out) >= 4);
    await own.stop({ kill: true });
    const lostLine = new RegExp(`^queue: lost Redis at redis://127\\.0\\.0\\.1:${own.port}`);
    await expect(run).rejects.toThrow(lostLine);
    for (const w of workers) await expect(w).rejects.toThrow(lostLine);
    expect(imagesIn(out)).toBeLessThan(30);
    expect(readdirSync(path.join(out, '.scrape', 'tmp'))).toEqual([]);
    // Every image on disk has its manifest line.
    for (const c of classes) {
      const lines = await readManifest(path.join(out, '.scrape', 'manifests', `${c.wnid}.jsonl`));
      const listed = new Set(lines.filter((e) => e.status === 'ok').map((e) => e.file));
      for (const f of existsSync(path.join(out, c.name)) ? readdirSync(path.join(out, c.name)) : [])
        expect(listed.has(f)).toBe(true);
    }
    // Back, empty (no persistence): the rerun starts the run afresh from what is on disk.
    const back = await startRedis(own.port);
    try {
      const again = [0, 1].map(() => runWorker({ queue, classesAtOnce: 2, lockMs: 2000 }));
      await scrapeWithQueue({ ...options(out, slow.base), queue });
      await Promise.all(again);
      expect(filesOf(out)).toEqual(filesOf(reference));
    } finally {
      await back.stop();
    }
  }, 90_000);
});
