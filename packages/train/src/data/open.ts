import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeImage } from '@resnet-ts/augment';
import { countTarEntries, extractTarArchive, firstTarEntry, isTarArchive } from './archive';
import { downloadCifar10, readCifar10 } from './cifar';
import { DatasetError, type FileDataset, type ImageDataset } from './dataset';
import { isImageFile, scanImageFolder } from './folder';
import { prepareImages, resizeMemoryDataset } from './prepare';
import { checkImageHeaders } from './verify';
import { findWebDataset, isWebDatasetImage, openWebDataset } from './webdataset';

/** Images at most this many pixels a side are decoded once into memory; larger stay files. */
export const SMALL_IMAGE_SIDE = 64;

export interface OpenOptions {
  /** Resize every image to size×size. */
  imageSize?: number;
  /** Cache for decoded datasets and downloads. Default ~/.cache/resnet-ts. */
  cacheDir?: string;
  onProgress?: (done: number, total: number) => void;
  /** Decode every image into memory whatever its size (how a run trained on decoded images reopens its data). */
  inMemory?: boolean;
}

export interface OpenedData {
  train: ImageDataset;
  /** A held-out split that ships with the data (CIFAR-10's test batch, an ImageNet `val/` tree). */
  heldOut?: ImageDataset;
  /** `validation`: train against it instead of splitting (`val/` trees); `test`: keep for final evaluation. */
  heldOutRole?: 'validation' | 'test';
}

/** Where decoded datasets and downloads are kept: `$XDG_CACHE_HOME/resnet-ts`, else `~/.cache/resnet-ts`. */
export const defaultCacheDir = () =>
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'resnet-ts');

/**
 * Opens `cifar10`, `cifar10:<archive or dir>`, a `.tar(.gz)` of class folders, a folder of class
 * folders, an ImageNet-style tree with `train/` and `val/` folders of class folders, or WebDataset
 * shards (a folder with `shards.json`, one shard, or a brace pattern `shard-{000000..000009}.tar`).
 * Small images are decoded once (cached); large ones stay files decoded per sample.
 */
export async function openDataset(spec: string, options: OpenOptions = {}): Promise<OpenedData> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  if (spec === 'cifar10' || spec.startsWith('cifar10:')) {
    const local = spec.slice('cifar10:'.length);
    const source = spec === 'cifar10' ? await downloadCifar10(path.join(cacheDir, 'downloads')) : local;
    const { train, test } = await readCifar10(source);
    if (options.imageSize === undefined) return { train, heldOut: test, heldOutRole: 'test' };
    return {
      train: await resizeMemoryDataset(train, options.imageSize),
      heldOut: await resizeMemoryDataset(test, options.imageSize),
      heldOutRole: 'test',
    };
  }
  const prepare = {
    cacheDir: path.join(cacheDir, 'prepared'),
    size: options.imageSize,
    onProgress: options.onProgress,
  };
  // Before the other formats: a shard is a tar too, and a brace pattern is no path.
  const webDataset = await findWebDataset(spec);
  if (webDataset)
    return { train: await openFiles(await openWebDataset(webDataset, cacheDir), options, prepare) };
  const info = await stat(spec).catch(() => undefined);
  if (!info)
    throw new DatasetError(
      `${spec}: data does not exist (expected a folder of class folders, an archive, WebDataset shards, or cifar10)`,
    );
  if (info.isFile()) {
    if (!isTarArchive(spec))
      throw new DatasetError(
        `${spec}: expected a folder of class folders or a .tar/.tar.gz/.tgz archive of them`,
      );
    if (options.inMemory) return { train: await prepareImages(spec, { ...prepare, mergeTrees: true }) };
    if (await holdsSmallImages(spec, options.imageSize)) return { train: await prepareImages(spec, prepare) };
    // Large images stay files, as in a folder: extract once into the cache and open that folder.
    const key = createHash('sha256')
      .update(JSON.stringify([path.resolve(spec), info.size, info.mtimeMs]))
      .digest('hex')
      .slice(0, 20);
    const extracted = await extractTarArchive(spec, path.join(cacheDir, 'extracted', key), isImageFile);
    return openDataset(await classFolderRoot(extracted), options);
  }
  const children = new Set(
    (await readdir(spec, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name),
  );
  if (children.has('train') && children.has('val')) {
    return {
      train: await openFolder(path.join(spec, 'train'), options, prepare),
      heldOut: await openFolder(path.join(spec, 'val'), options, prepare),
      heldOutRole: 'validation',
    };
  }
  return { train: await openFolder(spec, options, prepare) };
}

/**
 * How many training images `spec` holds, without decoding any (the `train/` half of a train/val
 * tree; all of CIFAR-10's 50,000); `undefined` when that cannot be told cheaply.
 */
export async function countSourceImages(spec: string): Promise<number | undefined> {
  if (spec === 'cifar10' || spec.startsWith('cifar10:')) return 50_000;
  const info = await stat(spec).catch(() => undefined);
  const webDataset = await findWebDataset(spec).catch(() => undefined);
  if (webDataset) {
    if (webDataset.count !== undefined) return webDataset.count;
    let count = 0;
    for (const shard of webDataset.shards) count += await countTarEntries(shard, isWebDatasetImage);
    return count;
  }
  if (!info) return undefined;
  if (info.isFile()) return isTarArchive(spec) ? countTarEntries(spec, isImageFile) : undefined;
  const trainTree = path.join(spec, 'train');
  const hasTrainTree = await stat(path.join(spec, 'val')).then(
    () => stat(trainTree).then((s) => s.isDirectory()),
    () => false,
  );
  return (await scanImageFolder(hasTrainTree ? trainTree : spec)).files.length;
}

/** Whether an archive's images are small enough to decode into memory (judged by its first image). */
async function holdsSmallImages(archive: string, imageSize: number | undefined): Promise<boolean> {
  if (imageSize !== undefined) return imageSize <= SMALL_IMAGE_SIDE;
  const first = await firstTarEntry(archive, isImageFile);
  if (!first) throw new DatasetError(`${archive}: holds no images (.jpg, .jpeg, .png, .webp)`);
  const image = await decodeImage(first.data).catch((error: Error) => {
    throw new DatasetError(`${archive}:${first.name}: unreadable image (${error.message})`);
  });
  return Math.max(image.width, image.height) <= SMALL_IMAGE_SIDE;
}

/** Archives often wrap their class folders in one top folder (or several): the first folder with more. */
async function classFolderRoot(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory());
  if (folders.length === 1 && entries.length === 1)
    return classFolderRoot(path.join(dir, (folders[0] as (typeof folders)[number]).name));
  return dir;
}

async function openFolder(
  dir: string,
  options: OpenOptions,
  prepare: Parameters<typeof prepareImages>[1],
): Promise<ImageDataset> {
  return openFiles(await scanImageFolder(dir), options, prepare);
}

/** Listed images: decoded into memory when small, else their headers checked and kept as files. */
async function openFiles(
  files: FileDataset,
  options: OpenOptions,
  prepare: Parameters<typeof prepareImages>[1],
): Promise<ImageDataset> {
  let small =
    options.inMemory === true || (options.imageSize !== undefined && options.imageSize <= SMALL_IMAGE_SIDE);
  if (options.imageSize === undefined && !options.inMemory) {
    const first = await decodeImage(files.files[0] as string).catch((error: Error) => {
      throw new DatasetError(`${files.files[0]}: unreadable image (${error.message})`);
    });
    small = Math.max(first.width, first.height) <= SMALL_IMAGE_SIDE;
  }
  if (small) return prepareImages(files, prepare);
  await checkImageHeaders(files.files, path.join(options.cacheDir ?? defaultCacheDir(), 'verified'));
  return files;
}
