import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { publishAtomic } from '../files';
import { isTarArchive, readTarArchive } from './archive';
import { DatasetError, type MemoryDataset } from './dataset';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';

const SIDE = 32;
const PIXELS = SIDE * SIDE;
const RECORD = 1 + 3 * PIXELS;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';

export interface Cifar10 {
  train: MemoryDataset;
  test: MemoryDataset;
}

/** Decodes CIFAR-10 binary records (label byte + planar 32×32 R, G, B) into one HWC dataset. */
export function parseCifarBatches(
  files: { name: string; data: Uint8Array }[],
  source: string,
): MemoryDataset {
  let count = 0;
  for (const { name, data } of files) {
    if (data.length === 0 || data.length % RECORD !== 0) {
      throw new DatasetError(
        `${name}: expected CIFAR-10 records of ${RECORD} bytes, got ${data.length} bytes`,
      );
    }
    count += data.length / RECORD;
  }
  const images = new Uint8Array(new SharedArrayBuffer(count * PIXELS * 3));
  const labels = new Int32Array(count);
  let n = 0;
  for (const { name, data } of files) {
    for (let r = 0; r < data.length; r += RECORD, n++) {
      const label = data[r] ?? 255;
      if (label >= CIFAR10_CLASSES.length) {
        throw new DatasetError(`${name}: record ${r / RECORD} has label ${label}, expected 0–9`);
      }
      labels[n] = label;
      const out = n * PIXELS * 3;
      for (let p = 0; p < PIXELS; p++) {
        images[out + p * 3] = data[r + 1 + p] ?? 0;
        images[out + p * 3 + 1] = data[r + 1 + PIXELS + p] ?? 0;
        images[out + p * 3 + 2] = data[r + 1 + 2 * PIXELS + p] ?? 0;
      }
    }
  }
  return { kind: 'memory', classes: [...CIFAR10_CLASSES], labels, images, height: SIDE, width: SIDE, source };
}

/**
 * Reads the official CIFAR-10 binary release: the `cifar-10-binary.tar.gz` archive, or a directory
 * holding `data_batch_1..5.bin` and `test_batch.bin` (directly or in `cifar-10-batches-bin/`).
 */
export async function readCifar10(source: string): Promise<Cifar10> {
  const info = await stat(source).catch(() => undefined);
  if (!info) throw new DatasetError(`${source}: CIFAR-10 archive or directory does not exist`);
  const wanted = [...TRAIN_FILES, TEST_FILE];
  let files: { name: string; data: Uint8Array }[];
  if (info.isDirectory()) {
    const inner = path.join(source, 'cifar-10-batches-bin');
    const dir = (await stat(inner).catch(() => undefined))?.isDirectory() ? inner : source;
    const present = new Set(await readdir(dir));
    const missing = wanted.filter((f) => !present.has(f));
    if (missing.length > 0) {
      throw new DatasetError(`${dir}: not a CIFAR-10 binary directory (missing ${missing.join(', ')})`);
    }
    files = await Promise.all(
      wanted.map(async (name) => ({
        name: path.join(dir, name),
        data: await readFile(path.join(dir, name)),
      })),
    );
  } else if (isTarArchive(source)) {
    const entries = await readTarArchive(source, (name) => wanted.includes(path.basename(name)));
    const byBase = new Map(entries.map((e) => [path.basename(e.name), e]));
    const missing = wanted.filter((f) => !byBase.has(f));
    if (missing.length > 0) {
      throw new DatasetError(`${source}: not a CIFAR-10 binary archive (missing ${missing.join(', ')})`);
    }
    files = wanted.map((f) => {
      const entry = byBase.get(f) as { name: string; data: Buffer };
      return { name: `${source}:${entry.name}`, data: entry.data };
    });
  } else {
    throw new DatasetError(
      `${source}: expected cifar-10-binary.tar.gz or a directory of CIFAR-10 .bin files`,
    );
  }
  const test = files.pop() as { name: string; data: Uint8Array };
  return {
    train: parseCifarBatches(files, `${source} (train)`),
    test: parseCifarBatches([test], `${source} (test)`),
  };
}

export interface DownloadOptions {
  url?: string;
  md5?: string;
}

/**
 * Downloads the official archive into `cacheDir` once (checksum verified, written atomically) and
 * returns its path; later calls reuse the cached file.
 */
export async function downloadCifar10(cacheDir: string, options: DownloadOptions = {}): Promise<string> {
  const url = options.url ?? CIFAR10_URL;
  const md5 = options.md5 ?? CIFAR10_MD5;
  const file = path.join(cacheDir, 'cifar-10-binary.tar.gz');
  if (await stat(file).catch(() => undefined)) return file;
  await publishAtomic(file, async (temp) => {
    const response = await fetch(url).catch((error: Error) => {
      throw new DatasetError(
        `cifar10: cannot download ${url} (${error.cause ?? error.message}); offline, pass a local copy as cifar10:<path>`,
      );
    });
    if (!response.ok || !response.body) {
      throw new DatasetError(`cifar10: ${url} answered HTTP ${response.status}`);
    }
    const hash = createHash('md5');
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(body, createWriteStream(temp));
    const digest = hash.digest('hex');
    if (digest !== md5) {
      throw new DatasetError(
        `cifar10: ${url} has md5 ${digest}, expected ${md5}; the download was discarded`,
      );
    }
  });
  return file;
}
