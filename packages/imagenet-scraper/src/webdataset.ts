/**
 * WebDataset output: tar shards of `shardSize` samples (`{key}.{jpg,png,…}`, `{key}.cls`,
 * `{key}.json`), in a fixed order, with an index (`shards.json`).
 *
 * An image is first staged, alone, in `.scrape/webdataset/staged/` (renamed into place, then its
 * manifest line appended — as in a class folder). A class's images join the shards' order only
 * once the class can no longer change: when it is full and every class before it has ended (the
 * pipeline marks its unneeded URLs then), or when the run ends. They join in the run's class
 * order, each class's in URL-list order, and that order is appended to `.scrape/webdataset/
 * order.jsonl` before any shard is written from it. A shard is written to `.scrape/tmp`, renamed
 * into place, then listed in `shards.json` (rewritten atomically), and only then are its staged
 * images deleted. So a killed run leaves at worst a shard the index does not list yet and staged
 * files of shards already listed; the next run rebuilds the first from the staged images (the same
 * bytes) and deletes the second. The last shard of a run is written partial and rebuilt, from its
 * staged images (kept until it is full), when a later run adds to it.
 */
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { writeFileAtomic } from './atomic';
import type { ClassInfo } from './classes';
import { ScrapeConfigError, writeFailed } from './errors';
import { appendManifest, type ManifestEntry, manifestLine, readManifest, unneededLine } from './manifest';
import type { Settings } from './options';
import type { Output, RunEnd } from './output';
import { imageFileName, type StateLayout } from './paths';
import { settle } from './reconcile';
import type { ClassWork, CommitSink, Holder, Outcome, TriedEntry } from './stages';
import { ScrapeStats } from './stats';

export const INDEX_FILE = 'shards.json';
export const WEBDATASET_FORMAT = 'resnet-ts-webdataset';

/** A class as the shards number it: `.cls` holds `index`. */
export interface WebDatasetClass {
  index: number;
  wnid: string;
  name: string;
}

export interface WebDatasetShard {
  /** File name beside `shards.json`. */
  name: string;
  /** Samples in it: `shardSize`, or fewer in the last shard. */
  count: number;
  /** Samples per wnid, in the shard's order. */
  classes: Record<string, number>;
}

/** `shards.json`: what the shards hold. Rewritten whole (atomically) after every shard. */
export interface WebDatasetIndex {
  format: typeof WEBDATASET_FORMAT;
  version: 1;
  prefix: string;
  shardSize: number;
  /** Samples in all shards. */
  images: number;
  /** Every class of every run on the output, in the order they were first scraped. */
  classes: WebDatasetClass[];
  shards: WebDatasetShard[];
}

/** What a sample's `.json` holds. The key order is the file format. */
export interface WebDatasetSampleJson {
  key: string;
  url: string;
  wnid: string;
  class: string;
  cls: number;
  sha256: string;
  /** Of the image as downloaded (before any resize). */
  width: number;
  height: number;
  /** Downloaded bytes. */
  bytes: number;
  /** The URL's host group, as in the statistics. */
  source: 'flickr' | 'other';
}

/** `{prefix}-{000000}.tar`. */
export const shardName = (prefix: string, n: number): string => `${prefix}-${String(n).padStart(6, '0')}.tar`;

/** Every member the same owner, mode and time: the same samples give the same bytes. */
const TAR_HEADER = { mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0) };

/** A stored image, as a shard needs it. */
interface Image {
  wnid: string;
  /** `<key>.<ext>`: the staged file and the shard member. */
  file: string;
  url: string;
  sha256: string;
  width: number;
  height: number;
  bytes: number;
}

const keyOf = (file: string) => file.slice(0, file.lastIndexOf('.'));

function imageOf(wnid: string, e: ManifestEntry): Image {
  const { url, sha256 = '', width = 0, height = 0, bytes = 0 } = e;
  return { wnid, file: e.file as string, url, sha256, width, height, bytes };
}

interface Paths {
  out: string;
  index: string;
  staged: string;
  order: string;
  temp: string;
}

const paths = (out: string, layout: StateLayout): Paths => ({
  out,
  index: path.join(out, INDEX_FILE),
  staged: path.join(layout.root, 'webdataset', 'staged'),
  order: path.join(layout.root, 'webdataset', 'order.jsonl'),
  temp: layout.temp,
});

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** The state under `.scrape` does not match the shards: resuming would lose or repeat images. */
const damaged = (out: string, what: string) =>
  new Error(`out: ${out} cannot be resumed: ${what}; delete it (or move it away) to scrape afresh`);

/** Reads `shards.json`, refusing one that is not ours or that other settings wrote. */
async function readIndex(file: string, settings: Settings): Promise<WebDatasetIndex | undefined> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw writeFailed(settings.out, error);
  });
  if (text === undefined) return undefined;
  let index: WebDatasetIndex;
  try {
    index = JSON.parse(text) as WebDatasetIndex;
  } catch {
    index = {} as WebDatasetIndex;
  }
  if (index?.format !== WEBDATASET_FORMAT || index.version !== 1 || !Array.isArray(index.shards))
    throw new ScrapeConfigError(`out: ${file} is not a ${WEBDATASET_FORMAT} index (version 1)`);
  if (index.shardSize !== settings.shardSize)
    throw new ScrapeConfigError(
      `shardSize: ${settings.out} holds shards of ${index.shardSize} images; give ${index.shardSize}, or another out`,
    );
  if (index.prefix !== settings.shardPrefix)
    throw new ScrapeConfigError(
      `shardPrefix: ${settings.out} holds shards named ${index.prefix}-…; give ${index.prefix}, or another out`,
    );
  return index;
}

/** `order.jsonl`: the shards' order so far. A torn last line (killed mid-append) is cut off. */
async function readOrder(file: string): Promise<{ wnid: string; file: string }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  if (whole.length < text.length) await truncate(file, Buffer.byteLength(whole));
  return whole
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { wnid: string; file: string });
}

/** A class of this run, as the sink tracks it. */
interface RunClass {
  info: ClassInfo;
  /** First place of each URL in the class's list: staged images join the order sorted by it. */
  position: Map<string, number>;
  /** Staged images not yet in the order, in commit order. */
  staged: Image[];
}

/** One shard's tar, written from staged files to `temp`, then renamed onto `file`. */
async function writeShardFile(
  file: string,
  temp: string,
  images: Image[],
  stagedDir: string,
  sample: (image: Image) => WebDatasetSampleJson,
): Promise<void> {
  const tar = pack();
  const written = pipeline(tar, createWriteStream(temp));
  written.catch(() => undefined); // seen below, through `add` or the final await
  const add = (name: string, data: Buffer) =>
    Promise.race([
      new Promise<void>((resolve, reject) =>
        tar.entry({ ...TAR_HEADER, name, size: data.length, type: 'file' }, data, (error) =>
          error ? reject(error) : resolve(),
        ),
      ),
      written.then(() => {
        throw new Error('the tar stream ended early');
      }),
    ]);
  try {
    for (const image of images) {
      const json = sample(image);
      await add(image.file, await readFile(path.join(stagedDir, image.file)));
      await add(`${json.key}.cls`, Buffer.from(String(json.cls)));
      await add(`${json.key}.json`, Buffer.from(JSON.stringify(json)));
    }
    tar.finalize();
    await written;
    await rename(temp, file);
  } catch (error) {
    tar.destroy(error as Error);
    await written.catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Stage 4 into WebDataset shards (see the file's comment). */
export class WebDatasetSink implements CommitSink {
  /** Background shard writes, one after another; the first failure stops the run at the next call. */
  private writes: Promise<void> = Promise.resolve();
  private failure: unknown;
  /** Classes of this run before this rank are in the order. */
  private ordered = 0;
  /** Shards written or queued whole. */
  private whole: number;
  private readonly byWnid: Map<string, RunClass>;

  constructor(
    private readonly p: Paths,
    private readonly layout: StateLayout,
    private readonly settings: Settings,
    private readonly index: WebDatasetIndex,
    private readonly run: RunClass[],
    /** In the order, not yet in a whole shard: the next shard's samples. */
    private tail: Image[],
  ) {
    this.whole = index.shards.filter((s) => s.count === settings.shardSize).length;
    this.byWnid = new Map(run.map((c) => [c.info.wnid, c]));
    this.queueWhole();
  }

  async commit(work: ClassWork, outcome: Outcome): Promise<TriedEntry> {
    this.throwIfFailed();
    const { wnid } = work.info;
    if (outcome.status !== 'ok') {
      const entry = manifestLine(outcome);
      await appendManifest(this.layout.manifest(wnid), [entry]);
      return entry;
    }
    const file = imageFileName(wnid, outcome.image.sha256, outcome.image.ext);
    await writeFileAtomic(
      path.join(this.p.staged, file),
      outcome.image.body,
      this.layout.tempFile(wnid, outcome.index),
    ).catch((error: unknown) => {
      throw writeFailed(this.p.out, error);
    });
    const entry = manifestLine(outcome, file);
    await appendManifest(this.layout.manifest(wnid), [entry]);
    this.classOf(work).staged.push(imageOf(wnid, entry));
    return entry;
  }

  /** The class is full and every class before it has ended: they all join the order. */
  async unneeded(work: ClassWork, urls: string[]): Promise<void> {
    this.throwIfFailed();
    await appendManifest(this.layout.manifest(work.info.wnid), urls.map(unneededLine));
    await this.order(this.run.indexOf(this.classOf(work)) + 1);
  }

  async revoke(work: ClassWork, holder: Holder, sha256: string): Promise<TriedEntry> {
    this.throwIfFailed();
    const staged = this.classOf(work).staged;
    const at = staged.findIndex((i) => i.url === holder.url && i.sha256 === sha256);
    // An image in the order belongs to a class that had ended: no earlier class can want it.
    if (at < 0)
      throw new Error(`${this.p.out}: ${holder.url} is already in a shard; it cannot be given back`);
    const [image] = staged.splice(at, 1) as [Image];
    // The file first: a kill before the line leaves an ok line without its file, tried again.
    await rm(path.join(this.p.staged, image.file), { force: true }).catch((error: unknown) => {
      throw writeFailed(this.p.out, error);
    });
    const entry: TriedEntry = { url: holder.url, status: 'duplicate', kind: 'duplicate', sha256 };
    await appendManifest(this.layout.manifest(work.info.wnid), [entry]);
    return entry;
  }

  async finish(end: RunEnd): Promise<void> {
    if (end !== 'failed' && this.failure === undefined) {
      try {
        // Every class ended: those not yet in the order join it (short ones have no unneeded call).
        if (end === 'done') await this.order(this.run.length);
        if (this.tail.length > 0) this.queue(this.whole, this.tail);
      } catch (error) {
        this.failure ??= error;
      }
    }
    await this.writes;
    if (end !== 'failed') this.throwIfFailed();
  }

  private classOf(work: ClassWork): RunClass {
    const found = this.byWnid.get(work.info.wnid);
    if (!found) throw new Error(`${work.info.wnid}: not a class of this run`);
    return found;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw writeFailed(this.p.out, this.failure);
  }

  /** Classes of this run up to (not including) `rank` join the order; whole shards are queued. */
  private async order(rank: number): Promise<void> {
    const joining: Image[] = [];
    for (; this.ordered < rank; this.ordered++) {
      const c = this.run[this.ordered] as RunClass;
      const at = (i: Image) => c.position.get(i.url) ?? Number.POSITIVE_INFINITY;
      joining.push(...c.staged.sort((a, b) => at(a) - at(b)));
      c.staged = [];
    }
    if (joining.length === 0) return;
    const lines = joining.map((i) => `${JSON.stringify({ wnid: i.wnid, file: i.file })}\n`).join('');
    // Recorded before any shard is written from it: a resumed run rebuilds the same shards.
    await appendFile(this.p.order, lines).catch((error: unknown) => {
      throw writeFailed(this.p.out, error);
    });
    this.tail.push(...joining);
    this.queueWhole();
  }

  private queueWhole(): void {
    const size = this.settings.shardSize;
    while (this.tail.length >= size) this.queue(this.whole++, this.tail.splice(0, size));
  }

  /** Shard `n` from `images` (a copy: the tail may grow meanwhile), behind earlier writes. */
  private queue(n: number, images: Image[]): void {
    const batch = [...images];
    this.writes = this.writes
      .then(() => (this.failure === undefined ? this.writeShard(n, batch) : undefined))
      .catch((error: unknown) => {
        this.failure ??= error;
      });
  }

  private async writeShard(n: number, images: Image[]): Promise<void> {
    const name = shardName(this.settings.shardPrefix, n);
    const file = path.join(this.p.out, name);
    const whole = images.length === this.settings.shardSize;
    const listed = this.index.shards[n];
    if (!whole && listed?.count === images.length && (await exists(file))) return; // unchanged
    const classes = new Map(this.index.classes.map((c) => [c.wnid, c]));
    const sample = (image: Image): WebDatasetSampleJson => {
      const c = classes.get(image.wnid) as WebDatasetClass;
      const { url, wnid, sha256, width, height, bytes } = image;
      const source = ScrapeStats.group(url);
      return {
        key: keyOf(image.file),
        url,
        wnid,
        class: c.name,
        cls: c.index,
        sha256,
        width,
        height,
        bytes,
        source,
      };
    };
    await writeShardFile(
      file,
      path.join(this.p.temp, `${name}.${process.pid}`),
      images,
      this.p.staged,
      sample,
    );
    const counts: Record<string, number> = {};
    for (const image of images) counts[image.wnid] = (counts[image.wnid] ?? 0) + 1;
    this.index.shards[n] = { name, count: images.length, classes: counts };
    this.index.images = this.index.shards.reduce((sum, s) => sum + s.count, 0);
    await writeIndex(this.p, this.index);
    // Listed: its staged images are no longer needed (a partial shard's are, to grow it later).
    if (whole) for (const image of images) await rm(path.join(this.p.staged, image.file), { force: true });
  }
}

const writeIndex = (p: Paths, index: WebDatasetIndex) =>
  writeFileAtomic(
    p.index,
    `${JSON.stringify(index, null, 1)}\n`,
    path.join(p.temp, `${INDEX_FILE}.${process.pid}`),
  );

/**
 * Stage 1 for WebDataset output: reads the index, the order and every class's manifest against the
 * shards and the staged images, repairs what a kill left (see the file's comment) and yields the
 * work items and a sink that continues where the last run stopped.
 */
export async function openWebDataset(settings: Settings, layout: StateLayout): Promise<Output> {
  const { out } = settings;
  const p = paths(out, layout);
  if (await exists(layout.folders))
    throw new ScrapeConfigError(
      `outputFormat: ${out} holds a folder-format scrape; give outputFormat folder, or another out`,
    );
  const previous = await readIndex(p.index, settings);
  try {
    await rm(layout.temp, { recursive: true, force: true });
    for (const dir of [layout.manifests, layout.temp, p.staged]) await mkdir(dir, { recursive: true });
  } catch (error) {
    throw writeFailed(out, error);
  }
  const index: WebDatasetIndex = previous ?? {
    format: WEBDATASET_FORMAT,
    version: 1,
    prefix: settings.shardPrefix,
    shardSize: settings.shardSize,
    images: 0,
    classes: [],
    shards: [],
  };
  // A class keeps its number on later runs; new ones are numbered after.
  const known = new Set(index.classes.map((c) => c.wnid));
  for (const info of settings.classes)
    if (!known.has(info.wnid))
      index.classes.push({ index: index.classes.length, wnid: info.wnid, name: info.name });

  const size = settings.shardSize;
  const last = index.shards.length - 1;
  if (!index.shards.every((s, i) => s.count === size || (i === last && s.count > 0 && s.count < size)))
    throw damaged(out, `${INDEX_FILE} lists a shard of the wrong size before the last`);
  const whole = index.shards.filter((s) => s.count === size);
  // The last shard, if partial, is rebuilt from its staged images; whole ones must be there.
  for (const s of whole)
    if (!(await exists(path.join(out, s.name)))) throw damaged(out, `${s.name} is missing`);
  const sealed = whole.length * size;

  const order = await readOrder(p.order);
  if (order.length < sealed)
    throw damaged(out, `the shards hold ${sealed} images but ${p.order} lists ${order.length}`);
  const inOrder = new Set(order.map((o) => o.file));
  const staged = new Set(await readdir(p.staged));
  const manifests = new Map<string, ManifestEntry[]>();
  for (const c of index.classes) manifests.set(c.wnid, await readManifest(layout.manifest(c.wnid)));
  const has = (file: string) => inOrder.has(file) || staged.has(file);
  const states = new Map(index.classes.map((c) => [c.wnid, settle(manifests.get(c.wnid) ?? [], has)]));

  // Images in the order are held before any class: no class of a later run takes one back.
  const seen = new Map<string, Holder>();
  const okByFile = new Map<string, { wnid: string; entry: ManifestEntry }>();
  for (const [wnid, state] of states)
    for (const e of state.settled.values())
      if (e.status === 'ok' && e.file) okByFile.set(e.file, { wnid, entry: e });
  const tail: Image[] = [];
  for (const [i, o] of order.entries()) {
    const found = okByFile.get(o.file);
    if (!found) throw damaged(out, `${o.file} is in the shards' order but in no manifest`);
    if (found.entry.sha256) seen.set(found.entry.sha256, { rank: -1, url: found.entry.url, file: o.file });
    if (i < sealed) continue;
    if (!staged.has(o.file))
      throw damaged(out, `${path.join(p.staged, o.file)} (of the next shard) is missing`);
    tail.push(imageOf(found.wnid, found.entry));
  }

  const keep = new Set(tail.map((i) => i.file));
  const work: ClassWork[] = [];
  const run: RunClass[] = [];
  const ordered = new Map<string, number>();
  for (const o of order) ordered.set(o.wnid, (ordered.get(o.wnid) ?? 0) + 1);
  for (const [rank, info] of settings.classes.entries()) {
    const state = states.get(info.wnid) as ReturnType<typeof settle>;
    const images: Image[] = [];
    for (const e of state.settled.values()) {
      if (e.status !== 'ok' || inOrder.has(e.file as string)) continue;
      // An image an earlier class also holds (a kill before this one gave it back) is the earlier
      // class's: this copy goes, and its URL is tried again.
      if (e.sha256 && seen.has(e.sha256)) {
        state.settled.delete(e.url);
        continue;
      }
      if (e.sha256) seen.set(e.sha256, { rank, url: e.url, file: e.file });
      images.push(imageOf(info.wnid, e));
      keep.add(e.file as string);
    }
    const urls = (settings.urls.get(info.wnid) ?? []).filter(
      (u) => !settings.flickrOnly || ScrapeStats.group(u) === 'flickr',
    );
    const position = new Map<string, number>();
    for (const [i, url] of urls.entries()) if (!position.has(url)) position.set(url, i);
    const pending = urls.filter((u) => !state.settled.has(u));
    const saved = (ordered.get(info.wnid) ?? 0) + images.length;
    work.push({ info, folder: info.name, urls, pending, saved, unneeded: state.unneeded });
    run.push({ info, position, staged: images });
  }
  // Classes not in this run keep their staged images for a run that has them again.
  const inRun = new Set(settings.classes.map((c) => c.wnid));
  for (const [wnid, state] of states)
    if (!inRun.has(wnid))
      for (const e of state.settled.values()) if (e.status === 'ok' && e.file) keep.add(e.file);

  try {
    // A kill's leftovers: staged files of listed shards or without a line, shards not yet listed.
    for (const file of staged) if (!keep.has(file)) await rm(path.join(p.staged, file), { force: true });
    const listed = new Set(index.shards.map((s) => s.name));
    const pattern = new RegExp(`^${settings.shardPrefix}-\\d{6}\\.tar$`);
    for (const file of await readdir(out))
      if (pattern.test(file) && !listed.has(file)) await rm(path.join(out, file), { force: true });
    await writeIndex(p, index);
  } catch (error) {
    throw writeFailed(out, error);
  }
  const sink = new WebDatasetSink(p, layout, settings, index, run, tail);
  return { work, seen, sink, finish: (end) => sink.finish(end) };
}
