import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ilsvrc2012Classes, selectClasses } from './classes';
import { OutputLockedError } from './lock';
import { readManifest } from './manifest';
import { LOOKAHEAD } from './pipeline';
import { type ScrapeOptions, scrape } from './scrape';
import { FAST_SCRAPE, type FaultServer, startFaultServer } from './testing/server';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const table = ilsvrc2012Classes();
const tench = table.get('n01440764')!;
const goldfish = table.get('n01443537')!;

const fast = FAST_SCRAPE;

function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

describe('scrape against a faulty server', () => {
  let out: string;
  let report: Awaited<ReturnType<typeof scrape>>;
  const urls = () =>
    new Map([
      [
        tench.wnid,
        [
          '/status/404',
          '/img/1.jpg',
          '/status/500',
          '/dup/1.jpg',
          '/slow-headers',
          '/img/2.jpg',
          '/html200',
          '/truncated',
          '/cut.jpg',
          '/wrong-type',
          '/busy/3',
          '/placeholder',
          '/tiny',
          '/small-file',
          '/slow-body',
          '/img/4.jpg',
          '/img/5.jpg',
          '/img/6.jpg',
          '/img/7.jpg',
        ].map((p) => server.base + p),
      ],
      [
        goldfish.wnid,
        [
          '/dup/2.jpg',
          '/loop/a',
          '/big',
          '/noai',
          '/bomb',
          'ftp://example.com/x.jpg',
          '/redirect/10',
          '/img/11.jpg',
          '/img/12.jpg',
        ].map((p) => (p.startsWith('/') ? server.base + p : p)),
      ],
    ]);

  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'scrape-'));
    report = await scrape({
      out,
      classes: [tench, goldfish],
      urls: urls(),
      perClass: 4,
      debugCsv: true,
      ...fast,
    });
  }, 60_000);

  it('saves exactly the quota per class, the first good images in list order', () => {
    expect(report.classes[tench.wnid]).toMatchObject({ folder: 'tench', saved: 4, short: false });
    expect(report.classes[goldfish.wnid]).toMatchObject({ folder: 'goldfish', saved: 3, short: true });
    const entries = readFileSync(path.join(out, '.scrape', 'manifests', `${tench.wnid}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ok = entries.filter((e) => e.status === 'ok').map((e) => new URL(e.url).pathname);
    expect(ok).toEqual(['/img/1.jpg', '/img/2.jpg', '/busy/3', '/img/4.jpg']);
    expect(filesIn(path.join(out, 'tench'))).toHaveLength(4);
    expect(filesIn(path.join(out, 'goldfish'))).toHaveLength(3);
    for (const file of filesIn(path.join(out, 'tench')))
      expect(file).toMatch(/^n01440764_[0-9a-f]{16}\.jpg$/);
  });

  it('records why each URL failed, and accounts for every URL', async () => {
    const entries = await readManifest(path.join(out, '.scrape', 'manifests', `${tench.wnid}.jsonl`));
    const kind = (p: string) => entries.find((e) => e.url === server.base + p);
    expect(kind('/status/404')).toMatchObject({ status: 'failed', kind: 'http-status', httpStatus: 404 });
    expect(kind('/status/500')).toMatchObject({ status: 'failed', kind: 'http-status', httpStatus: 500 });
    expect(kind('/dup/1.jpg')).toMatchObject({ status: 'duplicate' });
    expect(kind('/slow-headers')).toMatchObject({ status: 'failed', kind: 'timeout' });
    expect(kind('/html200')).toMatchObject({ kind: 'content-type' });
    expect(kind('/truncated')?.kind).toMatch(/network|corrupt/);
    expect(kind('/cut.jpg')).toMatchObject({ kind: 'corrupt' });
    expect(kind('/wrong-type')).toMatchObject({ kind: 'content-type' });
    expect(kind('/placeholder')).toMatchObject({ kind: 'placeholder' });
    expect(kind('/tiny')).toMatchObject({ kind: 'small-dimensions' });
    expect(kind('/small-file')).toMatchObject({ kind: 'too-small' });
    expect(kind('/slow-body')).toMatchObject({ kind: 'timeout' });
    expect(kind('/img/5.jpg')).toMatchObject({ status: 'unneeded' });
    expect(new Set(entries.map((e) => e.url)).size).toBe(urls().get(tench.wnid)!.length);
    const goldfishEntries = await readManifest(
      path.join(out, '.scrape', 'manifests', `${goldfish.wnid}.jsonl`),
    );
    // A URL's last line is its state: an image taken back by an earlier class gets a second line.
    const g = (p: string) =>
      [...goldfishEntries].reverse().find((e) => e.url === (p.startsWith('/') ? server.base + p : p));
    expect(g('/dup/2.jpg')).toMatchObject({ status: 'duplicate' }); // the same image as tench's /img/2.jpg
    expect(g('/loop/a')).toMatchObject({ kind: 'redirects' });
    expect(g('/big')).toMatchObject({ kind: 'too-large' });
    expect(g('/noai')).toMatchObject({ kind: 'robots' });
    expect(g('/bomb')).toMatchObject({
      kind: 'decompression-bomb',
      message: expect.stringMatching(/^20000×20000/),
    });
    expect(g('ftp://example.com/x.jpg')).toMatchObject({ kind: 'invalid-url' });
    expect(g('/redirect/10')).toMatchObject({ status: 'ok' });
    expect(server.hits.get('/busy/3')).toBe(2); // 429 with Retry-After, then the image
    expect(server.hits.get('/status/404')).toBe(1); // permanent: not retried
    expect(server.hits.get('/status/500')).toBe(2); // transient: retried once
  });

  it('writes statistics split by host group, and the original project’s debug CSV', () => {
    const stats = JSON.parse(readFileSync(path.join(out, '.scrape', 'stats.json'), 'utf8'));
    expect(stats.succeeded).toBe(7);
    expect(stats.other.failures.timeout).toBe(2);
    expect(stats.flickr.tried).toBe(0);
    const csv = readFileSync(path.join(out, '.scrape', 'debug.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('wnid,url,host_group,status,kind,http_status,bytes,ms');
    // Classes run at once: goldfish may save /dup/2.jpg before tench reaches /img/2.jpg and takes
    // it back (a second, duplicate row).
    const takenBack = csv.filter((row) => row.includes('/dup/2.jpg')).length - 1;
    expect(csv).toHaveLength(1 + stats.tried + takenBack);
    expect(stats.other.duplicates).toBe(2);
  });

  it('a second run changes nothing and fetches nothing new', async () => {
    const before = new Map(server.hits);
    const again = await scrape({ out, classes: [tench, goldfish], urls: urls(), perClass: 4, ...fast });
    expect(again.classes[tench.wnid]?.saved).toBe(4);
    expect(filesIn(path.join(out, 'tench'))).toHaveLength(4);
    expect([...server.hits].filter(([url, n]) => url.startsWith('/img') && n !== before.get(url))).toEqual(
      [],
    );
  });
});

describe('repairs', () => {
  it('a deleted class folder is downloaded again, not treated as duplicates; a torn manifest line is cut off', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-'));
    const urls = new Map([[tench.wnid, [1, 2, 3, 4].map((n) => `${server.base}/img/${300 + n}.jpg`)]]);
    await scrape({ out, classes: [tench], urls, perClass: 3, ...fast });
    const before = filesIn(path.join(out, 'tench'));
    const { rm, appendFile } = await import('node:fs/promises');
    await rm(path.join(out, 'tench'), { recursive: true });
    const manifest = path.join(out, '.scrape', 'manifests', `${tench.wnid}.jsonl`);
    await appendFile(manifest, '{"url":"http://torn');
    const again = await scrape({ out, classes: [tench], urls, perClass: 3, ...fast });
    expect(again.classes[tench.wnid]?.saved).toBe(3);
    expect(filesIn(path.join(out, 'tench'))).toEqual(before);
    for (const line of readFileSync(manifest, 'utf8').trim().split('\n'))
      expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('an image in two classes', () => {
  it('goes to the first class in the order, also when both hold it on disk (a kill between commit and give-back)', async () => {
    const img = (n: number) => `${server.base}/img/${n}.jpg`;
    const lists = new Map([
      [tench.wnid, [img(50), img(52)]],
      [goldfish.wnid, [img(50), img(51), img(53)]],
    ]);
    const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-both-'));
    // Each class scraped alone first: both end up holding /img/50.jpg.
    await scrape({ out, classes: [goldfish], urls: lists, perClass: 2, ...fast });
    await scrape({ out, classes: [tench], urls: lists, perClass: 2, ...fast });
    expect(filesIn(path.join(out, 'goldfish'))).toHaveLength(2);
    const together = await scrape({ out, classes: [tench, goldfish], urls: lists, perClass: 2, ...fast });
    expect(Object.values(together.classes).map((c) => c.saved)).toEqual([2, 2]);
    const fresh = await mkdtemp(path.join(os.tmpdir(), 'scrape-both-ref-'));
    await scrape({ out: fresh, classes: [tench, goldfish], urls: lists, perClass: 2, ...fast });
    for (const folder of ['tench', 'goldfish'])
      expect(filesIn(path.join(out, folder))).toEqual(filesIn(path.join(fresh, folder)));
    const goldfishLines = await readManifest(
      path.join(out, '.scrape', 'manifests', `${goldfish.wnid}.jsonl`),
    );
    expect(goldfishLines.filter((e) => e.url === img(50)).map((e) => e.status)).toEqual(['ok', 'duplicate']);
  });
});

describe('classes and names', () => {
  it('validates wnids against the ILSVRC table and picks random classes with a seed', () => {
    expect(table.size).toBe(1000);
    expect(() => selectClasses(table, { wnids: ['n99999999'] })).toThrow(
      /n99999999 is not in the class table/,
    );
    const a = selectClasses(table, { count: 5, seed: 1 }).map((c) => c.wnid);
    expect(selectClasses(table, { count: 5, seed: 1 }).map((c) => c.wnid)).toEqual(a);
    expect(selectClasses(table, { count: 5, seed: 2 }).map((c) => c.wnid)).not.toEqual(a);
  });

  it('keeps class names and URLs from escaping the output folder', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-'));
    const evil = { wnid: 'n00000001', name: '../../etc' };
    const crane1 = { wnid: 'n02012849', name: 'crane' };
    const crane2 = { wnid: 'n03126707', name: 'crane' };
    const urls = new Map([
      [evil.wnid, [`${server.base}/img/20.jpg`]],
      [crane1.wnid, [`${server.base}/img/21.jpg`]],
      [crane2.wnid, [`${server.base}/img/22.jpg`]],
    ]);
    const report = await scrape({ out, classes: [evil, crane1, crane2], urls, perClass: 1, ...fast });
    expect(Object.values(report.classes).map((c) => c.folder)).toEqual([
      '_.._etc',
      'crane (n02012849)',
      'crane (n03126707)',
    ]);
    expect(filesIn(out).filter((f) => !f.startsWith('.'))).toEqual([
      '_.._etc',
      'crane (n02012849)',
      'crane (n03126707)',
    ]);
  });
});

describe('options', () => {
  it('refuses zero or fractional concurrency limits instead of waiting forever', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-'));
    const base = { out, classes: [tench], urls: new Map(), perClass: 1 };
    await expect(scrape({ ...base, perHost: 0 })).rejects.toThrow(
      'perHost: expected a positive integer, got 0',
    );
    await expect(scrape({ ...base, concurrency: 1.5 })).rejects.toThrow(
      'concurrency: expected a positive integer, got 1.5',
    );
  });
});

describe('folders across runs', () => {
  it('a later run with a same-named class keeps the earlier folder; case-only differences get the wnid', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-'));
    const crane1 = { wnid: 'n02012849', name: 'crane' };
    const crane2 = { wnid: 'n03126707', name: 'crane' };
    const urls = new Map([
      [crane1.wnid, [`${server.base}/img/31.jpg`]],
      [crane2.wnid, [`${server.base}/img/32.jpg`]],
    ]);
    const first = await scrape({ out, classes: [crane1], urls, perClass: 1, debugCsv: true, ...fast });
    expect(first.classes[crane1.wnid]).toMatchObject({ folder: 'crane', saved: 1 });
    const before = filesIn(path.join(out, 'crane'));
    const second = await scrape({
      out,
      classes: [crane1, crane2],
      urls,
      perClass: 1,
      debugCsv: true,
      ...fast,
    });
    expect(second.classes[crane1.wnid]!.folder).toBe('crane');
    expect(second.classes[crane2.wnid]!.folder).toBe('crane (n03126707)');
    expect(filesIn(out).filter((f) => !f.startsWith('.'))).toEqual(['crane', 'crane (n03126707)']);
    expect(filesIn(path.join(out, 'crane'))).toEqual(before);
    const csv = readFileSync(path.join(out, '.scrape', 'debug.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv.filter((line) => line === csv[0])).toHaveLength(1); // one header over both runs

    const dogs = await mkdtemp(path.join(os.tmpdir(), 'scrape-'));
    const cardigans = [
      { wnid: 'n02113186', name: 'Cardigan' },
      { wnid: 'n02963159', name: 'cardigan' },
    ];
    const both = await scrape({
      out: dogs,
      classes: cardigans,
      urls: new Map(cardigans.map((c, i) => [c.wnid, [`${server.base}/img/${33 + i}.jpg`]])),
      perClass: 1,
      ...fast,
    });
    expect(Object.values(both.classes).map((c) => c.folder)).toEqual([
      'Cardigan (n02113186)',
      'cardigan (n02963159)',
    ]);

    // A scrape made before folders.json (here: its folders and manifests, without the file) keeps
    // its folders, so nothing is downloaded again.
    const older = await mkdtemp(path.join(os.tmpdir(), 'scrape-'));
    const olderUrls = new Map(cardigans.map((c, i) => [c.wnid, [`${server.base}/img/${35 + i}.jpg`]]));
    await scrape({ out: older, classes: cardigans, urls: olderUrls, perClass: 1, ...fast });
    for (const [c, folder] of [
      [cardigans[0]!, 'Cardigan'],
      [cardigans[1]!, 'cardigan'],
    ] as const)
      renameSync(path.join(older, `${c.name} (${c.wnid})`), path.join(older, folder));
    rmSync(path.join(older, '.scrape', 'folders.json'));
    const resumed = await scrape({ out: older, classes: cardigans, urls: olderUrls, perClass: 1, ...fast });
    expect(Object.values(resumed.classes).map((c) => [c.folder, c.saved])).toEqual([
      ['Cardigan', 1],
      ['cardigan', 1],
    ]);
    expect(filesIn(older).filter((f) => !f.startsWith('.'))).toEqual(['Cardigan', 'cardigan']);
    expect(resumed.stats.tried).toBe(0);
  });
});

describe('kill and resume', () => {
  it('SIGKILL midway, then resume: exactly the files of an uninterrupted run', async () => {
    const slow = await startFaultServer({ delayMs: 40 });
    try {
      const list = Array.from({ length: 60 }, (_, i) =>
        i % 7 === 3
          ? `${slow.base}/status/404`
          : i % 11 === 5
            ? `${slow.base}/dup/${i - 1}.jpg`
            : `${slow.base}/img/${100 + i}.jpg`,
      );
      const config = (
        out: string,
      ): Omit<ScrapeOptions, 'urls' | 'classes'> & { urls: [string, string[]][]; classes: object[] } => ({
        out,
        classes: [tench, goldfish],
        urls: [
          [tench.wnid, list.slice(0, 30)],
          [goldfish.wnid, list.slice(30)],
        ],
        perClass: 18,
        ...fast,
      });
      const reference = await mkdtemp(path.join(os.tmpdir(), 'scrape-ref-'));
      const { urls, ...rest } = config(reference);
      await scrape({ ...(rest as ScrapeOptions), urls: new Map(urls) });

      const killed = await mkdtemp(path.join(os.tmpdir(), 'scrape-kill-'));
      const configFile = path.join(killed, '..', `${path.basename(killed)}.json`);
      writeFileSync(configFile, JSON.stringify(config(killed)));
      const child = spawn(process.execPath, [path.join(__dirname, 'testing', 'run-scrape.cjs'), configFile], {
        stdio: 'ignore',
      });
      // Kill once some, but not all, images of the first class are on disk.
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const dir = path.join(killed, 'tench');
          if (existsSync(dir) && readdirSync(dir).length >= 6) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve();
          }
        }, 5);
      });
      await new Promise((resolve) => child.on('exit', resolve));
      expect(readdirSync(path.join(killed, 'tench')).length).toBeLessThan(18);
      const lock = path.join(killed, '.scrape', 'lock');
      expect(existsSync(lock)).toBe(true); // the killed run's: its pid is dead, so it is taken over
      const again = config(killed);
      await scrape({ ...(again as unknown as ScrapeOptions), urls: new Map(again.urls) });
      for (const folder of ['tench', 'goldfish']) {
        expect(filesIn(path.join(killed, folder))).toEqual(filesIn(path.join(reference, folder)));
        for (const f of filesIn(path.join(killed, folder))) {
          expect(statSync(path.join(killed, folder, f)).size).toBe(
            statSync(path.join(reference, folder, f)).size,
          );
        }
      }
      expect(readdirSync(path.join(killed, '.scrape', 'tmp'))).toEqual([]);
      expect(existsSync(lock)).toBe(false);
    } finally {
      await slow.close();
    }
  }, 60_000);
});

describe('stopping', () => {
  const list = (from: number) => Array.from({ length: 8 }, (_, i) => `${server.base}/img/${from + i}.jpg`);

  it('an aborted signal cancels downloads in flight: what is saved is recorded, nothing half-written; a rerun completes', async () => {
    // Slow images and two at a time: when the second image is committed, the third is still in
    // flight, and the abort must cancel it.
    const slow = await startFaultServer({ delayMs: 300 });
    try {
      const slowList = (from: number) =>
        Array.from({ length: 6 }, (_, i) => `${slow.base}/img/${from + i}.jpg`);
      const urls = () =>
        new Map([
          [tench.wnid, slowList(400)],
          [goldfish.wnid, slowList(420)],
        ]);
      const options = { classes: [tench, goldfish], perClass: 4, ...fast, concurrency: 2 };
      const reference = await mkdtemp(path.join(os.tmpdir(), 'scrape-ref-'));
      await scrape({ ...options, out: reference, urls: urls() });

      const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-stop-'));
      const stop = new AbortController();
      const stopped = await scrape({
        ...options,
        out,
        urls: urls(),
        signal: stop.signal,
        onProgress: (p) => {
          if (p.saved === 2) stop.abort();
        },
      });
      expect(stopped.classes[tench.wnid]).toMatchObject({ saved: 2, short: false });
      // Classes run at once, sharing the two slots: goldfish had none yet, and saved nothing.
      expect(stopped.classes[goldfish.wnid]).toMatchObject({ saved: 0, short: false });
      const saved = filesIn(path.join(out, 'tench'));
      expect(saved).toHaveLength(2);
      const recorded = await readManifest(path.join(out, '.scrape', 'manifests', `${tench.wnid}.jsonl`));
      expect(recorded.map((e) => e.file)).toEqual(saved);
      expect(readdirSync(path.join(out, '.scrape', 'tmp'))).toEqual([]);

      const resumed = await scrape({ ...options, out, urls: urls() });
      expect(resumed.classes[goldfish.wnid]).toMatchObject({ saved: 4, short: false });
      for (const folder of ['tench', 'goldfish'])
        expect(filesIn(path.join(out, folder))).toEqual(filesIn(path.join(reference, folder)));
    } finally {
      await slow.close();
    }
  });

  it('a download that cannot be written locally stops the run with the folder named, keeping what was saved', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-fatal-'));
    const urls = new Map([[tench.wnid, list(440)]]);
    const options = { out, classes: [tench], urls, perClass: 4, ...fast, concurrency: 1 };
    // With one download at a time, index 1 starts after the first commit: block its temp file
    // with a directory so that writing it fails (EISDIR; permissions do not stop root).
    const run = scrape({
      ...options,
      onProgress: (p) => {
        if (p.saved === 1) mkdirSync(path.join(out, '.scrape', 'tmp', `${tench.wnid}-1-${process.pid}`));
      },
    });
    await expect(run).rejects.toThrow(`${out}: cannot write downloads (EISDIR`);
    expect(existsSync(path.join(out, '.scrape', 'lock'))).toBe(false); // released on error too
    expect(filesIn(path.join(out, 'tench'))).toHaveLength(1);
    const recorded = await readManifest(path.join(out, '.scrape', 'manifests', `${tench.wnid}.jsonl`));
    expect(recorded.map((e) => e.status)).toEqual(['ok']);

    const resumed = await scrape(options);
    expect(resumed.classes[tench.wnid]).toMatchObject({ saved: 4, short: false });
    expect(filesIn(path.join(out, 'tench'))).toHaveLength(4);
  });
});

describe('one run per output folder', () => {
  it('a second run on the same folder is refused with one line; the first completes untouched', async () => {
    const slow = await startFaultServer({ delayMs: 200 });
    try {
      const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-lock-'));
      const urls = new Map([[tench.wnid, [1, 2, 3, 4].map((n) => `${slow.base}/img/${600 + n}.jpg`)]]);
      const options = { out, classes: [tench], urls, perClass: 3, ...fast };
      const first = scrape(options);
      // Once the first run holds the folder (its lock is written before anything else).
      while (!existsSync(path.join(out, '.scrape', 'lock'))) await new Promise((r) => setTimeout(r, 5));
      const second = scrape(options);
      await expect(second).rejects.toThrow(OutputLockedError);
      await expect(second).rejects.toThrow(
        `out: ${out} is in use by another scrape (pid ${process.pid} on ${os.hostname()}, since `,
      );
      const report = await first;
      expect(report.classes[tench.wnid]).toMatchObject({ saved: 3, short: false });
      const lines = readFileSync(path.join(out, '.scrape', 'manifests', `${tench.wnid}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).url);
      expect(new Set(lines).size).toBe(lines.length); // every URL once
      expect(existsSync(path.join(out, '.scrape', 'lock'))).toBe(false);
      expect((await scrape(options)).classes[tench.wnid]?.saved).toBe(3); // free again
    } finally {
      await slow.close();
    }
  });
});

describe('prefetch', () => {
  it('a quota of 3 sends a handful of requests, not one per slot; failures are still replaced', async () => {
    const counting = await startFaultServer();
    try {
      const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-prefetch-'));
      const good = Array.from({ length: 48 }, (_, i) => `${counting.base}/img/${700 + i}.jpg`);
      await scrape({
        out,
        classes: [tench],
        urls: new Map([[tench.wnid, good]]),
        perClass: 3,
        ...fast,
        concurrency: 48,
        perHost: 48,
      });
      expect(counting.log).toHaveLength(3 + LOOKAHEAD);

      const mixed = Array.from({ length: 48 }, (_, i) =>
        i % 2 === 0 ? `${counting.base}/status/404?${i}` : `${counting.base}/img/${800 + i}.jpg`,
      );
      const before = counting.log.length;
      const report = await scrape({
        out,
        classes: [goldfish],
        urls: new Map([[goldfish.wnid, mixed]]),
        perClass: 3,
        ...fast,
        concurrency: 48,
        perHost: 48,
      });
      expect(report.classes[goldfish.wnid]).toMatchObject({ saved: 3, short: false });
      const sent = counting.log.length - before;
      expect(sent).toBeGreaterThanOrEqual(6); // three 404s replaced
      expect(sent).toBeLessThanOrEqual(12);
    } finally {
      await counting.close();
    }
  });
});

describe('statistics across runs', () => {
  it('stats.json after a resume covers every run; the report is this run’s', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-stats-'));
    const urls = new Map([
      [
        tench.wnid,
        ['/img/901.jpg', '/status/404', '/img/902.jpg', '/img/903.jpg', '/img/904.jpg'].map(
          (p) => server.base + p,
        ),
      ],
    ]);
    const options = { out, classes: [tench], urls, ...fast };
    await scrape({ ...options, perClass: 2 });
    const statsFile = path.join(out, '.scrape', 'stats.json');
    const firstFile = JSON.parse(readFileSync(statsFile, 'utf8'));
    expect(firstFile).toMatchObject({ runs: 1, tried: 3, succeeded: 2 });
    const second = await scrape({ ...options, perClass: 4 });
    expect(second.stats).toMatchObject({ tried: 2, succeeded: 2 });
    const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    expect(stats).toMatchObject({ runs: 2, tried: 5, succeeded: 4, thisRun: { tried: 2, succeeded: 2 } });
    expect(stats.other).toMatchObject({ tried: 5, succeeded: 4, failed: 1, failures: { 'http-status': 1 } });
    // The file's own figures: the report's seconds are read a moment later than the file's.
    expect(stats.seconds).toBeCloseTo(firstFile.seconds + stats.thisRun.seconds, 6);
    expect(stats.thisRun.seconds).toBeLessThanOrEqual(second.stats.seconds);
    expect(stats.imagesPerSecond).toBeCloseTo(4 / stats.seconds, 5);
  });
});

describe('slow URLs', () => {
  it('a stalled URL first in one class: the other classes finish meanwhile; the files equal a run without the stall', async () => {
    const classes = [tench, goldfish, table.get('n01484850')!];
    const lists = (base: string) =>
      new Map(
        [
          [tench.wnid, ['/stall/1000', '/img/1001.jpg', '/status/404?t', '/img/1002.jpg', '/img/1003.jpg']],
          [goldfish.wnid, ['/img/1011.jpg', '/img/1012.jpg', '/img/1013.jpg', '/img/1014.jpg']],
          [classes[2]!.wnid, ['/img/1021.jpg', '/status/404?s', '/img/1022.jpg', '/img/1023.jpg']],
        ].map(([wnid, paths]) => [wnid as string, (paths as string[]).map((p) => base + p)]),
      );
    const options = { classes, perClass: 3, ...fast, headersTimeoutMs: 3000, timeoutMs: 5000 };
    const run = async (stallMs: number, extra: Partial<ScrapeOptions> = {}) => {
      const stalling = await startFaultServer({ stallMs });
      const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-stall-'));
      const fullAt = new Map<string, number>();
      const started = performance.now();
      try {
        const report = await scrape({
          ...options,
          out,
          urls: lists(stalling.base),
          onProgress: (p) => {
            if (p.saved === 3 && !fullAt.has(p.wnid)) fullAt.set(p.wnid, performance.now() - started);
          },
          ...extra,
        });
        const files = Object.fromEntries(
          Object.values(report.classes).map((c) => [c.folder, filesIn(path.join(out, c.folder))]),
        );
        const firstHits = new Map(stalling.log.map((entry) => [entry.url, entry.at - stalling.log[0]!.at]));
        return { report, files, fullAt, firstHits, out };
      } finally {
        await stalling.close();
      }
    };
    const stalled = await run(1500);
    // The others are full long before the stalled URL answers; its class right after, with the
    // images behind it fetched while it waited.
    expect(stalled.fullAt.get(goldfish.wnid)).toBeLessThan(1000);
    expect(stalled.fullAt.get(classes[2]!.wnid)).toBeLessThan(1000);
    expect(stalled.fullAt.get(tench.wnid)).toBeGreaterThanOrEqual(1450);
    expect(stalled.firstHits.get('/img/1002.jpg')).toBeLessThan(1000);
    const quick = await run(0);
    expect(stalled.files).toEqual(quick.files);
    expect(Object.values(stalled.report.classes).map((c) => c.saved)).toEqual([3, 3, 3]);
  }, 30_000);

  it('stopped while a URL is unsettled: the failures behind it are kept, and not fetched again', async () => {
    const stalling = await startFaultServer({ stallMs: 1500 });
    try {
      const out = await mkdtemp(path.join(os.tmpdir(), 'scrape-stall-stop-'));
      const urls = new Map([
        [
          tench.wnid,
          ['/stall/1100', '/status/404?a', '/img/1101.jpg', '/status/404?b'].map((p) => stalling.base + p),
        ],
      ]);
      const options = {
        out,
        classes: [tench],
        urls,
        perClass: 2,
        ...fast,
        headersTimeoutMs: 3000,
        timeoutMs: 5000,
      };
      const stop = new AbortController();
      const run = scrape({ ...options, signal: stop.signal });
      while ((stalling.hits.get('/status/404?b') ?? 0) === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 100)); // the failures are recorded
      stop.abort();
      expect((await run).classes[tench.wnid]).toMatchObject({ saved: 0 });
      const kept = await readManifest(path.join(out, '.scrape', 'manifests', `${tench.wnid}.jsonl`));
      expect(kept.map((e) => [new URL(e.url).search, e.status]).sort()).toEqual([
        ['?a', 'failed'],
        ['?b', 'failed'],
      ]);
      const resumed = await scrape(options);
      expect(resumed.classes[tench.wnid]).toMatchObject({ saved: 2, short: false });
      expect(stalling.hits.get('/status/404?a')).toBe(1);
      expect(stalling.hits.get('/stall/1100')).toBe(2); // unsettled: asked again
    } finally {
      await stalling.close();
    }
  }, 30_000);
});
