import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeImage, ImageDecodeError, type RgbImage, resizeAndCenterCrop } from '@resnet-ts/augment';
import { publishAtomic } from '../files';
import { readTarArchive } from './archive';
import { DatasetError, type FileDataset, type MemoryDataset } from './dataset';
import { isImageFile } from './folder';

const CACHE_VERSION = 1;

export interface PrepareOptions {
  /** Where decoded datasets are kept between runs. Without it nothing is cached. */
  cacheDir?: string;
  /** Resize (shorter side) and center-crop every image to size×size; required when sizes differ. */
  size?: number;
  /** Images decoded at once (sharp runs them on libuv's thread pool). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Read an archive's train/ and val/ trees as one set (how runs made before that was refused read them). */
  mergeTrees?: boolean;
}

interface CacheMeta {
  version: number;
  classes: string[];
  count: number;
  height: number;
  width: number;
  source: string;
}

type Encoded = { name: string; label: number; load: () => Promise<Uint8Array | string> };

/**
 * Decodes a folder dataset, or a `.tar(.gz)` archive of `…/<class>/<image>` files, once into one
 * uint8 block so epochs never decode again. With `cacheDir`, the result is stored (atomically)
 * under a key of the source's file list, sizes and modification times, and reused.
 */
export async function prepareImages(
  source: FileDataset | string,
  options: PrepareOptions = {},
): Promise<MemoryDataset> {
  const listing =
    typeof source === 'string'
      ? await listArchive(source, options.mergeTrees === true)
      : await listFolder(source);
  const cacheEntry = options.cacheDir
    ? path.join(
        options.cacheDir,
        createHash('sha256')
          .update(JSON.stringify([CACHE_VERSION, listing.fingerprint, options.size ?? 0]))
          .digest('hex')
          .slice(0, 20),
      )
    : undefined;
  if (cacheEntry) {
    const cached = await readCache(cacheEntry);
    if (cached) return cached;
  }
  const dataset = await decodeAll(listing.items, listing.classes, listing.source, options);
  if (cacheEntry) await writeCache(cacheEntry, dataset);
  return dataset;
}

async function listFolder(dataset: FileDataset) {
  const stats = await Promise.all(dataset.files.map((f) => stat(f)));
  const items: Encoded[] = dataset.files.map((file, i) => ({
    name: file,
    label: dataset.labels[i] ?? 0,
    load: () => Promise.resolve(file),
  }));
  const fingerprint = dataset.files.map((f, i) => [f, stats[i]?.size, stats[i]?.mtimeMs]);
  return { items, classes: dataset.classes, source: dataset.source, fingerprint };
}

async function listArchive(file: string, mergeTrees: boolean) {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new DatasetError(`${file}: archive does not exist`);
  const entries = await readTarArchive(file, isImageFile);
  const byClass = (name: string) => path.posix.basename(path.posix.dirname(name));
  // Class = parent folder: a train/ and a val/ tree would silently merge into one training set.
  const trees = new Set(entries.map((e) => byClass(path.posix.dirname(e.name))));
  if (trees.has('train') && trees.has('val') && !mergeTrees)
    throw new DatasetError(
      `${file}: holds train/ and val/ trees; extract it and pass the folder, whose val/ is then used for validation`,
    );
  const classes = [...new Set(entries.map((e) => byClass(e.name)))].sort();
  if (classes.length < 2) {
    throw new DatasetError(
      `${file}: expected images in at least 2 class folders (…/<class>/<image>), found ${classes.length}`,
    );
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const index = new Map(classes.map((c, i) => [c, i]));
  const items: Encoded[] = entries
    .map((e) => ({
      name: `${file}:${e.name}`,
      label: index.get(byClass(e.name)) ?? 0,
      load: () => Promise.resolve(e.data),
    }))
    .sort((a, b) => a.label - b.label);
  return { items, classes, source: file, fingerprint: [path.resolve(file), info.size, info.mtimeMs] };
}

async function decodeAll(items: Encoded[], classes: string[], source: string, options: PrepareOptions) {
  const decoded: RgbImage[] = new Array(items.length);
  let done = 0;
  await forEachConcurrently(items.length, options.concurrency ?? 32, async (i) => {
    const item = items[i] as Encoded;
    let image: RgbImage;
    try {
      image = await decodeImage(await item.load());
    } catch (error) {
      if (error instanceof ImageDecodeError) {
        const reason = error.message.replace(/^<buffer of \d+ bytes>: /, '').replace(`${item.name}: `, '');
        throw new DatasetError(`${item.name}: unreadable image (${reason})`);
      }
      throw error;
    }
    if (options.size && (image.width !== options.size || image.height !== options.size)) {
      image = await resizeAndCenterCrop(image, options.size, options.size);
    }
    decoded[i] = image;
    options.onProgress?.(++done, items.length);
  });
  const first = decoded[0] as RgbImage;
  const { width, height } = first;
  const size = width * height * 3;
  const images = new Uint8Array(new SharedArrayBuffer(items.length * size));
  decoded.forEach((image, i) => {
    if (image.width !== width || image.height !== height) {
      throw new DatasetError(
        `${items[i]?.name}: is ${image.width}×${image.height}, but ${items[0]?.name} is ${width}×${height}; pass --image-size (imageSize) to resize all images to one`,
      );
    }
    images.set(image.data, i * size);
  });
  const labels = Int32Array.from(items, (item) => item.label);
  return { kind: 'memory', classes, labels, images, height, width, source } satisfies MemoryDataset;
}

/** Runs `work(0 … count-1)` with at most `concurrency` calls in flight (sharp decodes on libuv's pool). */
async function forEachConcurrently(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Resizes (shorter side) and center-crops every image of a decoded dataset to size×size. */
export async function resizeMemoryDataset(
  dataset: MemoryDataset,
  size: number,
  concurrency = 32,
): Promise<MemoryDataset> {
  if (dataset.height === size && dataset.width === size) return dataset;
  const from = dataset.height * dataset.width * 3;
  const to = size * size * 3;
  const count = dataset.labels.length;
  const images = new Uint8Array(new SharedArrayBuffer(count * to));
  await forEachConcurrently(count, concurrency, async (i) => {
    const image: RgbImage = {
      data: dataset.images.subarray(i * from, (i + 1) * from),
      width: dataset.width,
      height: dataset.height,
      channels: 3,
    };
    images.set((await resizeAndCenterCrop(image, size, size)).data, i * to);
  });
  return { ...dataset, images, height: size, width: size };
}

async function readCache(dir: string): Promise<MemoryDataset | undefined> {
  try {
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as CacheMeta;
    if (meta.version !== CACHE_VERSION) return undefined;
    const bytes = await readFile(path.join(dir, 'images.bin'));
    const labelBytes = await readFile(path.join(dir, 'labels.bin'));
    if (bytes.length !== meta.count * meta.height * meta.width * 3 || labelBytes.length !== meta.count * 4)
      return undefined;
    const images = new Uint8Array(new SharedArrayBuffer(bytes.length));
    images.set(bytes);
    const labels = new Int32Array(meta.count);
    new Uint8Array(labels.buffer).set(labelBytes);
    return {
      kind: 'memory',
      classes: meta.classes,
      labels,
      images,
      height: meta.height,
      width: meta.width,
      source: meta.source,
    };
  } catch {
    return undefined; // absent or damaged: decode again
  }
}

async function writeCache(dir: string, dataset: MemoryDataset): Promise<void> {
  const meta: CacheMeta = {
    version: CACHE_VERSION,
    classes: dataset.classes,
    count: dataset.labels.length,
    height: dataset.height,
    width: dataset.width,
    source: dataset.source,
  };
  await publishAtomic(dir, async (temp) => {
    await mkdir(temp, { recursive: true });
    await writeFile(path.join(temp, 'images.bin'), dataset.images);
    await writeFile(
      path.join(temp, 'labels.bin'),
      new Uint8Array(dataset.labels.buffer, dataset.labels.byteOffset, dataset.labels.byteLength),
    );
    await writeFile(path.join(temp, 'meta.json'), JSON.stringify(meta));
  });
}
