import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ImageDataset } from './dataset';

/**
 * A digest of what a dataset holds, independent of where it lies: classes, labels and the decoded
 * pixels, or each file's path below the dataset's root and its size. A resumed run compares it, so
 * data moved elsewhere is accepted and other data with the same classes and counts is not.
 */
export async function datasetFingerprint(dataset: ImageDataset): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(dataset.classes));
  hash.update(new Uint8Array(dataset.labels.buffer, dataset.labels.byteOffset, dataset.labels.byteLength));
  if (dataset.kind === 'memory') {
    hash.update(`${dataset.height}x${dataset.width}`);
    hash.update(dataset.images);
  } else {
    for (const file of dataset.files) {
      const relative = path.relative(dataset.source, file).split(path.sep).join('/');
      hash.update(`${relative}\0${(await stat(file)).size}\n`);
    }
  }
  return hash.digest('hex');
}
