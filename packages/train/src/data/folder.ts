import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DatasetError, type FileDataset } from './dataset';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lists `root/<class>/*.{jpg,jpeg,png,webp}`. Class index = position in the sorted folder names;
 * files are sorted too, so the same tree always gives the same dataset.
 */
export async function scanImageFolder(root: string): Promise<FileDataset> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new DatasetError(
      `${root}: expected a directory of class folders, but it ${info ? 'is a file' : 'does not exist'}`,
    );
  }
  const entries = await readdir(root, { withFileTypes: true });
  const classes = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
  if (classes.length < 2) {
    throw new DatasetError(
      `${root}: expected at least 2 class folders (root/<class>/<image>), found ${classes.length}`,
    );
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (const [label, name] of classes.entries()) {
    const dir = path.join(root, name);
    const images = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && isImageFile(e.name))
      .map((e) => e.name)
      .sort(byCodePoint);
    if (images.length === 0) {
      throw new DatasetError(`${dir}: class folder has no images (${IMAGE_EXTENSIONS.join(', ')})`);
    }
    for (const image of images) {
      files.push(path.join(dir, image));
      labels.push(label);
    }
  }
  return { kind: 'files', classes, files, labels: Int32Array.from(labels), source: root };
}
