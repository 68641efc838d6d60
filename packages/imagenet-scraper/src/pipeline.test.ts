import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Dedup } from './check';
import { FolderSink } from './commit';
import { fail } from './errors';
import { manifestLine } from './manifest';
import { stateLayout } from './paths';
import { LAG_MS, LOOKAHEAD, type Pipeline, runClass, runPipeline, windowSize } from './pipeline';
import type { CheckedImage, ClassWork, CommitSink, Fetched, Outcome, Settled, Verdict } from './stages';

const tench = { wnid: 'n01440764', name: 'tench' };
const work = (pending: string[], extra: Partial<ClassWork> = {}): ClassWork => ({
  info: tench,
  folder: 'tench',
  urls: pending,
  pending,
  saved: 0,
  unneeded: new Set(),
  ...extra,
});
const image = (sha256: string): CheckedImage => ({
  body: Buffer.from(sha256),
  ext: 'jpg',
  sha256,
  bytes: sha256.length,
  width: 40,
  height: 40,
});

/** Download times: the earlier a URL is in the list, the longer it takes. */
const reverse = (index: number, count: number) => (count - index) * 5;
const forward = (index: number) => (index + 1) * 5;

/** Stages without a network: URL `bad…` fails, `dup-X` is the same image as `X`. */
function fakes(urls: string[], overrides: Partial<Pipeline> = {}, delay = reverse) {
  let running = 0;
  const seen = { maxRunning: 0, cancelled: 0 };
  const download = async (url: string, signal: AbortSignal): Promise<Fetched> => {
    running++;
    seen.maxRunning = Math.max(seen.maxRunning, running);
    const ms = delay(urls.indexOf(url), urls.length);
    await new Promise<void>((resolve) => {
      const cancel = () => {
        clearTimeout(timer);
        resolve();
      };
      // Removed when done: a class's signal outlives many downloads.
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', cancel);
        resolve();
      }, ms);
      signal.addEventListener('abort', cancel, { once: true });
    });
    running--;
    if (signal.aborted) {
      seen.cancelled++;
      return { status: 'cancelled' };
    }
    if (url.startsWith('bad')) return { status: 'failed', failure: fail.httpStatus(404), startedAt: 0 };
    return { status: 'fetched', bytes: Buffer.from(url.replace(/^dup-/, '')), startedAt: 0 };
  };
  const check = async (bytes: Buffer): Promise<Verdict> => ({
    status: 'passed',
    image: image(String(bytes)),
  });
  const commits: Outcome[] = [];
  const unneeded: string[][] = [];
  const sink: CommitSink = {
    commit: async (_work, outcome) => {
      commits.push(outcome);
      return manifestLine(outcome, outcome.status === 'ok' ? `${outcome.image.sha256}.jpg` : undefined);
    },
    unneeded: async (_work, list) => {
      unneeded.push(list);
    },
    revoke: async (_work, holder, sha256) => ({ url: holder.url, status: 'duplicate', sha256 }),
  };
  const events: (Settled & { committedBefore: number })[] = [];
  const pipeline: Pipeline = {
    download,
    check,
    dedup: new Dedup(new Map()),
    sink,
    observers: [{ settled: (event) => void events.push({ ...event, committedBefore: commits.length }) }],
    perClass: 3,
    concurrency: 4,
    ...overrides,
  };
  return { pipeline, commits, unneeded, events, seen };
}

describe('the pipeline, stage by stage', () => {
  const urls = ['a', 'bad-b', 'dup-a', 'c', 'd', 'e', 'f', 'g'];

  it('commits images strictly in list order however the downloads finish, failures at once, and stops at the quota', async () => {
    const { pipeline, commits, unneeded, seen } = fakes(urls); // finishing in reverse order
    const report = await runClass(pipeline, work(urls, { unneeded: new Set(['g']) }));
    const images = commits.filter((o) => o.status !== 'failed');
    expect(images.map((o) => [o.index, o.url, o.status])).toEqual([
      [0, 'a', 'ok'],
      [2, 'dup-a', 'duplicate'],
      [3, 'c', 'ok'],
      [4, 'd', 'ok'],
    ]);
    // The failure is recorded when it is known (before 'a', which takes longer), not in its turn.
    expect(commits.map((o) => o.url).indexOf('bad-b')).toBeLessThan(commits.map((o) => o.url).indexOf('a'));
    expect(report).toEqual({ name: 'tench', folder: 'tench', saved: 3, urls: 8, short: false });
    expect(unneeded).toEqual([['e', 'f']]); // untried, less those already marked
    expect(seen.maxRunning).toBeLessThanOrEqual(4);
  });

  it('cancels what is still in flight once the class is full, and marks it unneeded', async () => {
    const { pipeline, commits, unneeded, seen } = fakes(urls, { perClass: 1 }, forward);
    await runClass(pipeline, work(urls, { unneeded: new Set(['g']) }));
    expect(commits.map((o) => o.url)).toEqual(['a']);
    expect(seen.cancelled).toBe(LOOKAHEAD); // a quota of 1 starts 1 + LOOKAHEAD, not `concurrency`
    expect(unneeded).toEqual([['bad-b', 'dup-a', 'c', 'd', 'e', 'f']]);
  });

  it('starts no more downloads than the remaining quota needs, plus a small lookahead', async () => {
    const many = Array.from({ length: 48 }, (_, i) => `u${i}`);
    let started = 0;
    const { pipeline, commits } = fakes(many, { perClass: 3, concurrency: 16 }, forward);
    const download = pipeline.download;
    pipeline.download = (url, signal) => {
      started++;
      return download(url, signal);
    };
    await runClass(pipeline, work(many));
    expect(commits.filter((o) => o.status === 'ok')).toHaveLength(3);
    expect(started).toBe(3 + LOOKAHEAD);
  });

  it('widens the window as failures come in, and still fills the quota', async () => {
    const list = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? `bad-${i}` : `u${i}`));
    const { pipeline, commits, seen } = fakes(list, { perClass: 6, concurrency: 16 }, forward);
    const report = await runClass(pipeline, work(list));
    expect(report).toMatchObject({ saved: 6, short: false });
    expect(commits.map((o) => o.url).slice(-1)).toEqual(['u11']); // the first six good ones, in order
    expect(seen.maxRunning).toBeGreaterThan(6 + LOOKAHEAD); // half fail: more than the optimistic start
    expect(seen.maxRunning).toBeLessThanOrEqual(16);
    expect(windowSize(16, 3, 0, 0)).toBe(5);
    expect(windowSize(16, 3, 10, 5)).toBe(8); // half succeed: twice the need, plus the lookahead
    expect(windowSize(16, 100, 0, 0)).toBe(16);
    expect(windowSize(16, 3, 100, 0)).toBe(16);
  });

  it('tells the observers of every tried URL, after its commit, with its status', async () => {
    const { pipeline, commits, events } = fakes(urls, {}, forward);
    await runClass(pipeline, work(urls, { saved: 1 }));
    expect(events.map((e) => [e.entry.url, e.entry.status, e.entry.kind, e.saved])).toEqual([
      ['a', 'ok', undefined, 2],
      ['bad-b', 'failed', 'http-status', 2],
      ['dup-a', 'duplicate', 'duplicate', 2],
      ['c', 'ok', undefined, 3],
    ]);
    expect(events.map((e) => e.committedBefore)).toEqual([1, 2, 3, 4]);
    expect(events).toHaveLength(commits.length);
    expect(events.every((e) => e.wnid === tench.wnid && e.folder === 'tench')).toBe(true);
  });

  it('a stopped run commits nothing after the cancelled request and marks nothing unneeded', async () => {
    const stop = new AbortController();
    const { pipeline, commits, unneeded } = fakes(urls, { signal: stop.signal }, forward);
    pipeline.observers.push({ settled: ({ entry }) => void (entry.status === 'ok' && stop.abort()) });
    const report = await runClass(pipeline, work(urls));
    expect(commits.map((o) => o.url)).toEqual(['a']);
    expect(report).toMatchObject({ saved: 1, short: false });
    expect(unneeded).toEqual([]);
  });

  it('runs short when the URLs run out', async () => {
    const { pipeline } = fakes(['a', 'bad-b']);
    expect(await runClass(pipeline, work(['a', 'bad-b']))).toMatchObject({ saved: 1, short: true });
  });

  it('a stage that throws stops the class in its turn, after the commits before it', async () => {
    const { pipeline, commits } = fakes(urls, {}, forward);
    const check = pipeline.check;
    pipeline.check = async (bytes) => {
      if (String(bytes) === 'c') throw new Error('decoder bug');
      return check(bytes);
    };
    await expect(runClass(pipeline, work(urls))).rejects.toThrow('decoder bug');
    expect(commits.map((o) => o.url)).toEqual(['a', 'bad-b', 'dup-a']);
  });

  it('finds duplicates of images on disk and across classes; the first class in the order keeps one', () => {
    const dedup = new Dedup(new Map([['on-disk', { rank: 0, url: 'u0', file: 'f0' }]]));
    const passed = (sha: string, index: number, rank = 1) =>
      dedup.judge({ url: `${sha}-${index}`, index, timeMs: 1, status: 'passed', image: image(sha) }, rank);
    expect([passed('on-disk', 0), passed('x', 1), passed('x', 2)].map((j) => j.outcome.status)).toEqual([
      'duplicate',
      'ok',
      'duplicate',
    ]);
    dedup.stored('x', 'x.jpg');
    // Rank 0 comes first: it takes 'x' from rank 1, which gives its copy back; rank 2 gets a duplicate.
    expect(passed('x', 5, 0)).toEqual({
      outcome: expect.objectContaining({ status: 'ok' }),
      displaced: { rank: 1, url: 'x-1', file: 'x.jpg' },
    });
    expect(passed('x', 0, 2).outcome.status).toBe('duplicate');
    expect(passed('on-disk', 3, 0).outcome.status).toBe('duplicate'); // the same class's copy
  });
});

describe('the folder sink', () => {
  it('puts the image in place, then its manifest line; a failed write names the output folder', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'sink-'));
    const layout = stateLayout(out);
    await mkdir(layout.manifests, { recursive: true });
    await mkdir(layout.temp, { recursive: true });
    await mkdir(path.join(out, 'tench'));
    const sink = new FolderSink(out, layout);
    const sha = 'ab'.repeat(32);
    const ok = { url: 'u1', index: 0, timeMs: 1, status: 'ok', image: image(sha) } as const;
    const failed = {
      url: 'u2',
      index: 1,
      timeMs: 1,
      status: 'failed',
      failure: fail.notImage(),
      bytes: 7,
    } as const;
    expect(await sink.commit(work(['u1', 'u2']), ok)).toMatchObject({
      status: 'ok',
      file: `n01440764_${'ab'.repeat(8)}.jpg`,
    });
    await sink.commit(work(['u1', 'u2']), failed);
    await sink.unneeded(work(['u1', 'u2', 'u3']), ['u3']);
    expect(readdirSync(path.join(out, 'tench'))).toEqual([`n01440764_${'ab'.repeat(8)}.jpg`]);
    expect(readdirSync(layout.temp)).toEqual([]);
    expect(readFileSync(layout.manifest(tench.wnid), 'utf8')).toBe(
      [
        `{"url":"u1","status":"ok","sha256":"${sha}","bytes":64,"width":40,"height":40,"file":"n01440764_${'ab'.repeat(8)}.jpg"}`,
        '{"url":"u2","status":"failed","kind":"not-image","message":"no JPEG, PNG, GIF or WebP signature","bytes":7}',
        '{"url":"u3","status":"unneeded"}',
        '',
      ].join('\n'),
    );
    const gone = work(['u1'], { folder: 'missing' });
    await expect(sink.commit(gone, ok)).rejects.toThrow(`${out}: cannot write downloads (ENOENT`);
    expect(existsSync(layout.tempFile(tench.wnid, 0))).toBe(false);
  });
});

describe('classes at once', () => {
  const wnids = ['n00000001', 'n00000002', 'n00000003'];
  /** URLs `<image>@<ms>`: answered after `ms`; an image named `bad…` fails; bytes are the image name. */
  function classes(lists: string[][], stallMs: number, perClass = 3) {
    const started = new Map<string, number>();
    const t0 = performance.now();
    const download = async (url: string, signal: AbortSignal): Promise<Fetched> => {
      const [name = '', ms = '0'] = url.split('@');
      started.set(url, performance.now() - t0);
      const delay = name.startsWith('stall') ? stallMs : Number(ms);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
      if (signal.aborted) return { status: 'cancelled' };
      if (name.startsWith('bad') || name.startsWith('stall'))
        return { status: 'failed', failure: fail.timeout('no response headers within 15 s'), startedAt: 0 };
      return { status: 'fetched', bytes: Buffer.from(name), startedAt: 0 };
    };
    const files = new Map<string, Set<string>>(wnids.map((w) => [w, new Set()]));
    /** When each class had its quota in place. */
    const full = new Map<string, number>();
    const revoked: string[] = [];
    const sink: CommitSink = {
      commit: async (w, outcome) => {
        const own = files.get(w.info.wnid) as Set<string>;
        if (outcome.status === 'ok') own.add(outcome.image.sha256);
        if (own.size === perClass) full.set(w.info.wnid, performance.now() - t0);
        return manifestLine(outcome, outcome.status === 'ok' ? `${outcome.image.sha256}.jpg` : undefined);
      },
      unneeded: async () => undefined,
      revoke: async (w, holder, sha256) => {
        files.get(w.info.wnid)?.delete(sha256);
        revoked.push(`${w.info.wnid}:${holder.url}`);
        return { url: holder.url, status: 'duplicate', kind: 'duplicate', sha256 };
      },
    };
    const pipeline: Pipeline = {
      download,
      check: async (bytes) => ({ status: 'passed', image: image(String(bytes)) }),
      dedup: new Dedup(new Map()),
      sink,
      observers: [],
      perClass,
      concurrency: 8,
    };
    const items = lists.map((list, i) =>
      work(list, { info: { wnid: wnids[i] as string, name: `c${i}` }, folder: `c${i}` }),
    );
    const result = runPipeline(pipeline, items).then((reports) => ({
      reports,
      files: Object.fromEntries([...files].map(([w, set]) => [w, [...set].sort()])),
      full,
      started,
      revoked,
    }));
    return result;
  }

  const good = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}@5`);

  it('a stalled URL holds up only its own class, and that class only until it settles', async () => {
    const lists = [['stall-0@0', ...good('a', 5)], good('b', 6), good('c', 6)];
    const stalled = await classes(lists, 400);
    // The other classes finish while class 0 waits; class 0 has its images downloaded meanwhile
    // and finishes as soon as the stalled URL settles, not after fetching the rest.
    expect(stalled.full.get('n00000002')).toBeLessThan(150);
    expect(stalled.full.get('n00000003')).toBeLessThan(150);
    expect(stalled.full.get('n00000001')).toBeGreaterThanOrEqual(390);
    expect(stalled.full.get('n00000001')).toBeLessThan(400 + 100);
    for (const url of ['a0@5', 'a1@5', 'a2@5']) expect(stalled.started.get(url)).toBeLessThan(100);
    // The same answers without the delay: the same files.
    const quick = await classes(lists, 0);
    expect(stalled.files).toEqual(quick.files);
    expect(stalled.files.n00000001).toEqual(['a0', 'a1', 'a2']);
    expect(Object.values(stalled.reports).map((r) => r.saved)).toEqual([3, 3, 3]);
  });

  it('a window full of stalled downloads still starts the URLs the quota needs', async () => {
    // Five stalled URLs fill the quota's window (3 + LOOKAHEAD); once they lag, the good ones start.
    const stalls = Array.from({ length: 6 }, (_, i) => `stall-${i}@0`);
    const run = await classes([[...stalls, ...good('a', 3)], [], []], 2500);
    expect(run.started.get('a0@5')).toBeGreaterThanOrEqual(LAG_MS);
    expect(run.started.get('a0@5')).toBeLessThan(LAG_MS + 800);
    expect(run.files.n00000001).toEqual(['a0', 'a1', 'a2']);
    // The sixth stall starts with them: done at LAG_MS + 2.5 s, not after two stalls back to back.
    expect(run.full.get('n00000001')).toBeLessThan(LAG_MS + 2500 + 500);
  });

  it('an image in two classes goes to the first class in the order, however the downloads finish', async () => {
    // Class 1 commits 'x' first (fast); class 0 reaches it later, takes it back, and class 1 goes on.
    const lists = [
      ['a0@5', 'x@150', 'a1@5'],
      ['x@5', 'b0@5', 'b1@5', 'b2@5'],
    ];
    const raced = await classes(lists, 0, 2);
    expect(raced.revoked).toEqual(['n00000002:x@5']);
    expect(raced.files).toEqual({ n00000001: ['a0', 'x'], n00000002: ['b0', 'b1'], n00000003: [] });
    // Class 1 slow instead: it finds 'x' already held, no give-back; the same files.
    const calm = await classes(
      [
        ['a0@5', 'x@5', 'a1@5'],
        ['x@150', 'b0@5', 'b1@5', 'b2@5'],
      ],
      0,
      2,
    );
    expect(calm.revoked).toEqual([]);
    expect(calm.files).toEqual(raced.files);
    expect(Object.values(raced.reports).map((r) => [r.saved, r.short])).toEqual([
      [2, false],
      [2, false],
    ]);
  });
});
