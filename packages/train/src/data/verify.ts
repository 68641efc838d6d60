import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../files';
import { DatasetError } from './dataset';

/** How many headers are read at once: the work is file opens and a few KB of reads each. */
const CONCURRENCY = 16;

/** A digest of the files' paths, sizes and modification times: a changed file is checked again. */
async function listingKey(files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    const { size, mtimeMs } = await stat(file);
    hash.update(`${path.resolve(file)}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/**
 * Reads the header of every image, so that a dataset decoded batch by batch during training (large
 * images) fails when it is opened, naming its bad files, rather than hours into a run. Headers
 * only: a file whose pixels are damaged after a good header still fails when it is decoded. A
 * listing that passed is remembered in `verifiedDir` (about 0.6 ms a file is worth skipping on
 * every resume of an ImageNet-sized run).
 */
export async function checkImageHeaders(files: readonly string[], verifiedDir?: string): Promise<void> {
  const marker = verifiedDir ? path.join(verifiedDir, await listingKey(files)) : undefined;
  if (marker && (await stat(marker).catch(() => undefined))) return;
  const bad: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++] as string;
      try {
        const { width, height, format } = await sharp(file).metadata();
        if (!width || !height) throw new Error(`${format ?? 'unknown'} image without a size`);
      } catch (error) {
        bad.push(`${file} (${(error as Error).message.split('\n')[0]})`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
  if (bad.length === 0) {
    if (marker) await writeFileAtomic(marker, `${files.length} images\n`);
    return;
  }
  bad.sort();
  const shown = bad.slice(0, 5).join('; ');
  throw new DatasetError(
    bad.length === 1
      ? `${shown}: unreadable image; fix or remove it`
      : `${bad.length} unreadable images: ${shown}${bad.length > 5 ? '; …' : ''}; fix or remove them`,
  );
}
