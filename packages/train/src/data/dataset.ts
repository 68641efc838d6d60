/**
 * A labelled image dataset. Small images (CIFAR, prepared folders) live in memory as one uint8
 * NHWC block; large ones (ImageNet-style folders) stay files that workers decode per sample.
 */
export type ImageDataset = MemoryDataset | FileDataset;

export interface DatasetBase {
  /** Class names, index = label (sorted folder names, like the original project's LabelEncoder). */
  classes: string[];
  /** One label per sample. */
  labels: Int32Array;
  /** Where the samples came from, for messages and reports. */
  source: string;
}

export interface MemoryDataset extends DatasetBase {
  kind: 'memory';
  height: number;
  width: number;
  /** count × height × width × 3 bytes, RGB. A SharedArrayBuffer view when shared with workers. */
  images: Uint8Array;
}

export interface FileDataset extends DatasetBase {
  kind: 'files';
  files: string[];
}

/** Samples per class, in class-index order. */
export function classCounts(dataset: Pick<DatasetBase, 'classes' | 'labels'>): number[] {
  const counts = new Array<number>(dataset.classes.length).fill(0);
  for (const label of dataset.labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

/** The samples at `indices`, as a dataset of the same kind (images copied for memory datasets). */
export function subset<T extends ImageDataset>(dataset: T, indices: ArrayLike<number>): T {
  const labels = Int32Array.from(indices, (i) => dataset.labels[i] ?? -1);
  if (dataset.kind === 'files') {
    return { ...dataset, labels, files: Array.from(indices, (i) => dataset.files[i] ?? '') };
  }
  const size = dataset.height * dataset.width * 3;
  const images = new Uint8Array(new SharedArrayBuffer(indices.length * size));
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] ?? 0;
    images.set(dataset.images.subarray(i * size, (i + 1) * size), k * size);
  }
  return { ...dataset, labels, images };
}

/** The first `limit` samples of every class, in dataset order. */
export function firstPerClass(dataset: ImageDataset, limit: number): ImageDataset {
  const taken = new Map<number, number>();
  const keep: number[] = [];
  dataset.labels.forEach((label, i) => {
    const n = taken.get(label) ?? 0;
    if (n < limit) keep.push(i);
    taken.set(label, n + 1);
  });
  return subset(dataset, keep);
}

/** Thrown for a dataset that cannot be used; the message names the folder or file. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}
