import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extract } from 'tar-stream';
import { ilsvrc2012Classes } from './classes';
import { type ScrapeOptions, scrape } from './scrape';
import { FAST_SCRAPE, type FaultServer, startFaultServer } from './testing/server';
import type { WebDatasetIndex, WebDatasetSampleJson } from './webdataset';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const table = ilsvrc2012Classes();
const tench = table.get('n01440764')!;
const goldfish = table.get('n01443537')!;

const fast = FAST_SCRAPE;

interface Member {
  name: string;
  data: Buffer;
  header: { mode?: number; uid?: number; gid?: number; mtime?: Date };
}

async function readShard(file: string): Promise<Member[]> {
  const tar = extract();
  createReadStream(file).pipe(tar);
  const members: Member[] = [];
  for await (const entry of tar) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { name, mode, uid, gid, mtime } = entry.header;
    members.push({ name, data: Buffer.concat(chunks), header: { mode, uid, gid, mtime } });
  }
  return members;
}

const shardsIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.tar'))
    .sort();
const indexOf = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'shards.json'), 'utf8')) as WebDatasetIndex;

/** Every shard's bytes, and the index's. */
function snapshot(dir: string): Record<string, Buffer> {
  const files = [...shardsIn(dir), 'shards.json'];
  return Object.fromEntries(files.map((f) => [f, readFileSync(path.join(dir, f))]));
}

describe('webdataset output', () => {
  const list = (base: string, from: number, n: number) =>
    Array.from({ length: n }, (_, i) => `${base}/img/${from + i}.jpg`);
  // A failure, a duplicate within the class and one across classes (goldfish's first URL is the
  // same image as tench's second: the earlier class keeps it).
  const urls = (base: string) =>
    new Map([
      [
        tench.wnid,
        [`${base}/status/404`, ...list(base, 1000, 2), `${base}/dup/1000.jpg`, ...list(base, 1002, 4)],
      ],
      [goldfish.wnid, [`${base}/dup/1001.jpg`, ...list(base, 1010, 6)]],
    ]);
  const options = (out: string, base = server.base): ScrapeOptions => ({
    out,
    classes: [tench, goldfish],
    urls: urls(base),
    perClass: 4,
    outputFormat: 'webdataset',
    shardSize: 3,
    ...fast,
  });

  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'wds-'));
    const report = await scrape(options(out));
    expect(report.classes[tench.wnid]).toMatchObject({ saved: 4, short: false });
    expect(report.classes[goldfish.wnid]).toMatchObject({ saved: 4, short: false });
  }, 60_000);

  it('writes shards of shardSize samples, each a .jpg, a .cls and a .json, in class then list order', async () => {
    expect(shardsIn(out)).toEqual(['shard-000000.tar', 'shard-000001.tar', 'shard-000002.tar']);
    expect(
      readdirSync(out)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual(['shard-000000.tar', 'shard-000001.tar', 'shard-000002.tar', 'shards.json']);
    const samples: WebDatasetSampleJson[] = [];
    for (const shard of shardsIn(out)) {
      const members = await readShard(path.join(out, shard));
      for (const m of members) expect(m.header).toEqual({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) });
      for (let i = 0; i < members.length; i += 3) {
        const [image, cls, json] = members.slice(i, i + 3) as [Member, Member, Member];
        const meta = JSON.parse(json.data.toString()) as WebDatasetSampleJson;
        expect([image.name, cls.name, json.name]).toEqual([
          `${meta.key}.jpg`,
          `${meta.key}.cls`,
          `${meta.key}.json`,
        ]);
        expect(meta.key).toMatch(new RegExp(`^${meta.wnid}_[0-9a-f]{16}$`));
        expect(cls.data.toString()).toBe(String(meta.cls));
        expect(image.data.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
        expect(meta.sha256.startsWith(meta.key.slice(10))).toBe(true);
        expect(meta).toMatchObject({ width: 64, height: 48, source: 'other', bytes: image.data.length });
        samples.push(meta);
      }
    }
    const paths = samples.map((s) => [s.wnid, s.class, s.cls, new URL(s.url).pathname]);
    expect(paths).toEqual([
      [tench.wnid, 'tench', 0, '/img/1000.jpg'],
      [tench.wnid, 'tench', 0, '/img/1001.jpg'],
      [tench.wnid, 'tench', 0, '/img/1002.jpg'],
      [tench.wnid, 'tench', 0, '/img/1003.jpg'],
      [goldfish.wnid, 'goldfish', 1, '/img/1010.jpg'],
      [goldfish.wnid, 'goldfish', 1, '/img/1011.jpg'],
      [goldfish.wnid, 'goldfish', 1, '/img/1012.jpg'],
      [goldfish.wnid, 'goldfish', 1, '/img/1013.jpg'],
    ]);
    expect(indexOf(out)).toEqual({
      format: 'resnet-ts-webdataset',
      version: 1,
      prefix: 'shard',
      shardSize: 3,
      images: 8,
      classes: [
        { index: 0, wnid: tench.wnid, name: 'tench' },
        { index: 1, wnid: goldfish.wnid, name: 'goldfish' },
      ],
      shards: [
        { name: 'shard-000000.tar', count: 3, classes: { [tench.wnid]: 3 } },
        { name: 'shard-000001.tar', count: 3, classes: { [tench.wnid]: 1, [goldfish.wnid]: 2 } },
        { name: 'shard-000002.tar', count: 2, classes: { [goldfish.wnid]: 2 } },
      ],
    });
    // Only the partial last shard's images stay staged, to grow it on a later run.
    expect(readdirSync(path.join(out, '.scrape', 'webdataset', 'staged'))).toHaveLength(2);
    expect(readdirSync(path.join(out, '.scrape', 'tmp'))).toEqual([]);
  });

  it('the same inputs give the same shards, byte for byte; a rerun fetches nothing and changes nothing', async () => {
    const again = await mkdtemp(path.join(os.tmpdir(), 'wds-again-'));
    await scrape(options(again));
    expect(snapshot(again)).toEqual(snapshot(out));
    const before = snapshot(out);
    const hits = server.log.length;
    const rerun = await scrape(options(out));
    expect(rerun.stats.tried).toBe(0);
    expect(server.log.length).toBe(hits);
    expect(snapshot(out)).toEqual(before);
  });

  it('a later run with a larger quota appends to the partial last shard, rebuilt from its staged images', async () => {
    const grown = await mkdtemp(path.join(os.tmpdir(), 'wds-grow-'));
    await scrape(options(grown));
    await scrape({ ...options(grown), perClass: 5 });
    const index = indexOf(grown);
    expect(index.images).toBe(10);
    expect(index.shards.map((s) => s.count)).toEqual([3, 3, 3, 1]);
    const members = await readShard(path.join(grown, 'shard-000002.tar'));
    const keys = members
      .filter((m) => m.name.endsWith('.json'))
      .map((m) => JSON.parse(m.data.toString()).url);
    // The first run's last two, then the new images in class order.
    expect(keys.map((u: string) => new URL(u).pathname)).toEqual([
      '/img/1012.jpg',
      '/img/1013.jpg',
      '/img/1004.jpg',
    ]);
    expect(readdirSync(path.join(grown, '.scrape', 'webdataset', 'staged'))).toHaveLength(1);
  });

  it('stopped midway and resumed: the shards of an uninterrupted run', async () => {
    const slow = await startFaultServer({ delayMs: 100 });
    try {
      const reference = await mkdtemp(path.join(os.tmpdir(), 'wds-ref-'));
      await scrape({ ...options(reference, slow.base), concurrency: 2 });
      for (const stopAt of [1, 3, 6]) {
        const stopped = await mkdtemp(path.join(os.tmpdir(), 'wds-stop-'));
        const stop = new AbortController();
        await scrape({
          ...options(stopped, slow.base),
          concurrency: 2,
          signal: stop.signal,
          onProgress: (p) => {
            if (p.totalSaved >= stopAt) stop.abort();
          },
        });
        expect(indexOf(stopped).images).toBeLessThan(8);
        await scrape({ ...options(stopped, slow.base), concurrency: 2 });
        expect(snapshot(stopped)).toEqual(snapshot(reference));
      }
    } finally {
      await slow.close();
    }
  }, 60_000);

  it('SIGKILL midway, then resume: the shards of an uninterrupted run', async () => {
    const slow = await startFaultServer({ delayMs: 30 });
    try {
      const many = (base: string) =>
        new Map([
          [tench.wnid, [...list(base, 1100, 14), `${base}/status/404`, ...list(base, 1114, 10)]],
          [goldfish.wnid, [`${base}/dup/1105.jpg`, ...list(base, 1130, 24)]],
        ]);
      const config = (dir: string) => ({
        ...options(dir, slow.base),
        urls: [...many(slow.base)],
        perClass: 20,
        shardSize: 7,
      });
      const reference = await mkdtemp(path.join(os.tmpdir(), 'wds-ref-'));
      await scrape({ ...config(reference), urls: many(slow.base) });
      expect(indexOf(reference).images).toBe(40);

      const killed = await mkdtemp(path.join(os.tmpdir(), 'wds-kill-'));
      const configFile = path.join(killed, '..', `${path.basename(killed)}.json`);
      writeFileSync(configFile, JSON.stringify(config(killed)));
      const child = spawn(process.execPath, [path.join(__dirname, 'testing', 'run-scrape.cjs'), configFile], {
        stdio: 'ignore',
      });
      // Kill as the first shard lands: before or after its index line, its staged images deleted or not.
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (existsSync(path.join(killed, 'shard-000000.tar'))) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve();
          }
        }, 2);
      });
      await new Promise((resolve) => child.on('exit', resolve));
      expect(shardsIn(killed).length).toBeLessThan(6);
      await scrape({ ...config(killed), urls: many(slow.base) });
      expect(snapshot(killed)).toEqual(snapshot(reference));
      expect(readdirSync(path.join(killed, '.scrape', 'tmp'))).toEqual([]);
    } finally {
      await slow.close();
    }
  }, 60_000);
});

describe('webdataset options and refusals', () => {
  const base = (out: string): ScrapeOptions => ({
    out,
    classes: [tench],
    urls: new Map([[tench.wnid, [`${server.base}/img/1200.jpg`]]]),
    perClass: 1,
    outputFormat: 'webdataset',
    ...fast,
  });

  it('refuses a bad shard size or prefix, an index that is not ours, and another format or shard size on one output', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'wds-bad-'));
    await expect(scrape({ ...base(out), shardSize: 0 })).rejects.toThrow(
      'shardSize: expected a positive integer, got 0',
    );
    await expect(scrape({ ...base(out), shardPrefix: '../x' })).rejects.toThrow(
      'shardPrefix: expected up to 64 letters, digits, - and _, got "../x"',
    );
    await expect(scrape({ ...base(out), outputFormat: 'zip' as 'folder' })).rejects.toThrow(
      'outputFormat: expected folder or webdataset, got "zip"',
    );

    writeFileSync(path.join(out, 'shards.json'), '{"shards": []}');
    await expect(scrape(base(out))).rejects.toThrow(
      `out: ${path.join(out, 'shards.json')} is not a resnet-ts-webdataset index (version 1)`,
    );

    const wds = await mkdtemp(path.join(os.tmpdir(), 'wds-'));
    await scrape(base(wds));
    await expect(scrape({ ...base(wds), shardSize: 500 })).rejects.toThrow(
      `shardSize: ${wds} holds shards of 1000 images; give 1000, or another out`,
    );
    await expect(scrape({ ...base(wds), outputFormat: 'folder' })).rejects.toThrow(
      `outputFormat: ${wds} holds a WebDataset (shards.json); give outputFormat webdataset, or another out`,
    );
    const folders = await mkdtemp(path.join(os.tmpdir(), 'wds-folders-'));
    await scrape({ ...base(folders), outputFormat: 'folder' });
    await expect(scrape(base(folders))).rejects.toThrow(
      `outputFormat: ${folders} holds a folder-format scrape; give outputFormat folder, or another out`,
    );
  });
});
