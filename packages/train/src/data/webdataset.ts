/**
 * WebDataset shards (tar files of samples `{key}.jpg` + `{key}.cls` + …, as `resnet scrape
 * --output-format webdataset` writes them): a directory with `shards.json` and its shards, a
 * directory of nothing but `.tar` shards, one shard, or a brace pattern of shards
 * (`data/shard-{000000..000009}.tar`).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { publishAtomic } from '../files';
import { forEachTarEntry, isTarArchive } from './archive';
import { DatasetError, type FileDataset } from './dataset';

export const WEBDATASET_INDEX = 'shards.json';
const WEBDATASET_FORMAT = 'resnet-ts-webdataset';
/** Bumped when the extracted layout changes: older extractions are not reused. */
const EXTRACT_VERSION = 1;

/** Images of a sample, as the folder reader takes them (and GIF, which the scraper keeps). */
const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp', 'gif']);

/** A shard member that is a sample's image. */
export const isWebDatasetImage = (name: string): boolean =>
  IMAGE_EXTENSIONS.has(splitMember(name)?.ext ?? '');

/** The parts of `shards.json` a reader needs (the scraper's `WebDatasetIndex`). */
interface ShardIndex {
  format: string;
  classes: { index: number; wnid: string; name: string }[];
  shards: { name: string; count: number }[];
  images: number;
}

export interface WebDatasetSource {
  /** What the user gave, for messages. */
  spec: string;
  /** Shard files in order. */
  shards: string[];
  /** Class names by `.cls` index, from `shards.json`. */
  classes?: string[];
  /** Every class of the index is expected to have images (a whole dataset, not a few of its shards). */
  whole: boolean;
  /** Samples, when the index says. */
  count?: number;
}

const exists = (file: string) =>
  stat(file).then(
    (s) => s,
    () => undefined,
  );

/** `{key}.{ext}` as WebDataset splits a member name: the key ends at the first dot of the file name. */
function splitMember(name: string): { key: string; ext: string } | undefined {
  const match = /^((?:.*\/)?[^./][^.]*)\.([^/]+)$/.exec(name);
  return match ? { key: match[1] as string, ext: (match[2] as string).toLowerCase() } : undefined;
}

/** Reads `file` as our index; `undefined` when it does not exist. */
async function readIndex(file: string): Promise<ShardIndex | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let index: ShardIndex | undefined;
  try {
    index = JSON.parse(text) as ShardIndex;
  } catch {
    index = undefined;
  }
  if (index?.format !== WEBDATASET_FORMAT || !Array.isArray(index.shards) || !Array.isArray(index.classes))
    throw new DatasetError(
      `${file}: not a ${WEBDATASET_FORMAT} index (shards.json as resnet scrape writes it)`,
    );
  return index;
}

/** Class names by index; a name two classes share gets the wnid, as the scraper's folders do. */
function classNames(index: ShardIndex): string[] {
  const sorted = [...index.classes].sort((a, b) => a.index - b.index);
  const uses = new Map<string, number>();
  for (const c of sorted) uses.set(c.name, (uses.get(c.name) ?? 0) + 1);
  return sorted.map((c) => ((uses.get(c.name) ?? 0) > 1 ? `${c.name} (${c.wnid})` : c.name));
}

/** `a{0..2}b` → a0b a1b a2b (zero-padded as written), `{x,y}` → x y; several braces multiply. */
export function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const [whole, body = ''] = match;
  const head = pattern.slice(0, match.index);
  const rest = expandBraces(pattern.slice(match.index + whole.length));
  const range = /^(\d+)\.\.(\d+)$/.exec(body);
  let items: string[];
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])];
    const width = (range[1] as string).startsWith('0') ? (range[1] as string).length : 0;
    items = [];
    for (let n = from; from <= to ? n <= to : n >= to; n += from <= to ? 1 : -1)
      items.push(String(n).padStart(width, '0'));
  } else items = body.split(',');
  return items.flatMap((item) => rest.map((tail) => `${head}${item}${tail}`));
}

/** Whether an archive is WebDataset shards: among its first members, an image and a `.cls` with one key. */
export async function isWebDatasetShard(file: string): Promise<boolean> {
  const images = new Set<string>();
  const labels = new Set<string>();
  let seen = 0;
  let found = false;
  await forEachTarEntry(
    file,
    (name) => {
      const member = splitMember(name);
      if (member?.ext === 'cls') labels.add(member.key);
      else if (member && IMAGE_EXTENSIONS.has(member.ext)) images.add(member.key);
      found = member !== undefined && images.has(member.key) && labels.has(member.key);
      return found || ++seen >= 32; // read no further: the answer is known
    },
    () => false,
  );
  return found;
}

/**
 * A folder of nothing but `.tar` shards and no index (shards from another tool, or copied without
 * `shards.json`): its shards in name order, classes from the samples. Undefined for any other folder.
 */
async function shardFolder(dir: string): Promise<WebDatasetSource | undefined> {
  const entries = await readdir(dir, { withFileTypes: true });
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  if (visible.length === 0 || !visible.every((e) => e.isFile() && /\.tar$/i.test(e.name))) return undefined;
  const shards = visible.map((e) => path.join(dir, e.name)).sort();
  if (!(await isWebDatasetShard(shards[0] as string))) return undefined;
  return { spec: dir, shards, classes: undefined, whole: false };
}

/** The shards `spec` names, or `undefined` when it is not a WebDataset (other formats are tried then). */
export async function findWebDataset(spec: string): Promise<WebDatasetSource | undefined> {
  const info = await exists(spec);
  if (!info && /\{[^{}]*\}/.test(spec)) {
    const shards = expandBraces(spec);
    for (const shard of shards)
      if (!(await exists(shard))?.isFile()) throw new DatasetError(`${spec}: ${shard} does not exist`);
    const index = await readIndex(path.join(path.dirname(shards[0] as string), WEBDATASET_INDEX)).catch(
      () => undefined, // someone else's index beside the shards: classes from the samples
    );
    return { spec, shards, classes: index && classNames(index), whole: false };
  }
  if (info?.isDirectory()) {
    const index = await readIndex(path.join(spec, WEBDATASET_INDEX));
    if (!index) return await shardFolder(spec);
    const shards = index.shards.map((s) => path.join(spec, s.name));
    for (const [i, shard] of shards.entries())
      if (!(await exists(shard))?.isFile())
        throw new DatasetError(
          `${spec}: ${WEBDATASET_INDEX} lists ${index.shards[i]?.name}, which does not exist`,
        );
    if (shards.length === 0) throw new DatasetError(`${spec}: ${WEBDATASET_INDEX} lists no shards yet`);
    return { spec, shards, classes: classNames(index), whole: true, count: index.images };
  }
  if (info?.isFile() && isTarArchive(spec) && (await isWebDatasetShard(spec))) {
    const index = await readIndex(path.join(path.dirname(spec), WEBDATASET_INDEX)).catch(() => undefined);
    const listed = index?.shards.some((s) => s.name === path.basename(spec));
    return { spec, shards: [spec], classes: listed && index ? classNames(index) : undefined, whole: false };
  }
  return undefined;
}

/** What an extraction leaves beside the images: the samples in shard order. */
interface Extracted {
  classes: string[];
  files: string[];
  labels: number[];
}

interface Sample {
  key: string;
  shard: string;
  image?: string;
  cls?: string;
  name?: string;
}

/**
 * Extracts the images of every shard once into `cacheDir/extracted/<key>` (atomically, refusing
 * names that would land outside) and lists them as files: class = the `.cls` index, names from the
 * index, else from the samples' `.json` (`class`). A whole dataset keeps the index's classes (each
 * must have images); a few shards keep the classes they hold, in index order, numbered from 0.
 */
export async function openWebDataset(source: WebDatasetSource, cacheDir: string): Promise<FileDataset> {
  const hash = createHash('sha256').update(JSON.stringify([EXTRACT_VERSION, 'webdataset']));
  for (const shard of source.shards) {
    const { size, mtimeMs } = (await stat(shard)) as { size: number; mtimeMs: number };
    hash.update(JSON.stringify([path.resolve(shard), size, mtimeMs]));
  }
  const dir = path.join(cacheDir, 'extracted', hash.digest('hex').slice(0, 20));
  const listing = path.join(dir, 'samples.json');
  if (!(await exists(listing)))
    await publishAtomic(dir, (temp) => extractShards(source, temp), { existing: 'keep' });
  const extracted = JSON.parse(await readFile(listing, 'utf8')) as Extracted;
  return {
    kind: 'files',
    classes: extracted.classes,
    files: extracted.files.map((f) => path.join(dir, ...f.split('/'))),
    labels: Int32Array.from(extracted.labels),
    source: dir,
  };
}

async function extractShards(source: WebDatasetSource, temp: string): Promise<void> {
  const samples: Sample[] = [];
  for (const [n, shard] of source.shards.entries()) {
    const folder = String(n).padStart(6, '0');
    const byKey = new Map<string, Sample>();
    await forEachTarEntry(
      shard,
      () => true,
      async ({ name, data }) => {
        const member = splitMember(name);
        if (!member) return;
        const { key, ext } = member;
        if (path.posix.isAbsolute(key) || key.split('/').includes('..'))
          throw new DatasetError(`${shard}: entry ${name} would be extracted outside its folder`);
        let sample = byKey.get(key);
        if (!sample) {
          sample = { key, shard };
          byKey.set(key, sample);
          samples.push(sample);
        }
        if (ext === 'cls') sample.cls = data.toString('utf8').trim();
        else if (ext === 'json') sample.name = jsonClass(data);
        else if (IMAGE_EXTENSIONS.has(ext) && sample.image === undefined) {
          sample.image = `${folder}/${key}.${ext}`;
          const target = path.join(temp, folder, ...`${key}.${ext}`.split('/'));
          await mkdir(path.dirname(target), { recursive: true });
          await writeFile(target, data);
        }
      },
    );
  }
  await writeFile(path.join(temp, 'samples.json'), JSON.stringify(label(source, samples)));
}

/** A sample's `.json` `class`, if it has one (a broken `.json` is not the label's business). */
function jsonClass(data: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { class?: unknown };
    return typeof parsed.class === 'string' ? parsed.class : undefined;
  } catch {
    return undefined;
  }
}

function label(source: WebDatasetSource, samples: Sample[]): Extracted {
  const cls: number[] = [];
  for (const s of samples) {
    if (s.image === undefined)
      throw new DatasetError(`${s.shard}: sample ${s.key} has no image (.jpg, .jpeg, .png, .webp or .gif)`);
    const value = Number(s.cls);
    const known = source.classes?.length ?? Number.POSITIVE_INFINITY;
    if (s.cls === undefined || s.cls === '' || !Number.isInteger(value) || value < 0 || value >= known)
      throw new DatasetError(
        s.cls === undefined
          ? `${s.shard}: sample ${s.key} has no .cls member (its class index)`
          : `${s.shard}: ${s.key}.cls is "${s.cls}", not a class index${source.classes ? ` (0–${known - 1})` : ''}`,
      );
    cls.push(value);
  }
  const present = [...new Set(cls)].sort((a, b) => a - b);
  const names = (c: number) => source.classes?.[c] ?? samples[cls.indexOf(c)]?.name ?? String(c);
  if (source.whole && source.classes) {
    const empty = source.classes.filter((_, c) => !present.includes(c));
    if (empty.length > 0)
      throw new DatasetError(
        `${source.spec}: class ${empty.slice(0, 3).join(', ')}${empty.length > 3 ? ', …' : ''} has no images in the shards (is the scrape finished?)`,
      );
    return {
      classes: source.classes,
      files: samples.map((s) => s.image as string),
      labels: cls,
    };
  }
  if (present.length < 2)
    throw new DatasetError(`${source.spec}: expected samples of at least 2 classes, found ${present.length}`);
  const dense = new Map(present.map((c, i) => [c, i]));
  return {
    classes: present.map(names),
    files: samples.map((s) => s.image as string),
    labels: cls.map((c) => dense.get(c) as number),
  };
}
