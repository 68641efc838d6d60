import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeTarGz } from '../testing/archive';
import { writeFolderDataset } from '../testing/fixtures';
import { scanImageFolder } from './folder';
import { openDataset } from './open';
import { prepareImages } from './prepare';

describe('image folders', () => {
  it('lists sorted classes and files, labels by folder', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'folder-'));
    await writeFolderDataset(root, { classes: 3, perClass: 2 });
    await writeFile(path.join(root, 'class-a', 'notes.txt'), 'ignored');
    const dataset = await scanImageFolder(root);
    expect(dataset.classes).toEqual(['class-a', 'class-b', 'class-c']);
    expect(Array.from(dataset.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(path.basename(dataset.files[3]!)).toBe('001.png');
  });

  it('names a missing directory and an empty class folder', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'folder-'));
    await expect(scanImageFolder(path.join(root, 'nope'))).rejects.toThrow(
      /nope: expected a directory of class folders, but it does not exist/,
    );
    await writeFolderDataset(root, { classes: 2, perClass: 1 });
    await mkdir(path.join(root, 'empty'));
    await expect(scanImageFolder(root)).rejects.toThrow(/empty: class folder has no images/);
  });

  it('decodes small images once, caches them, and reads the cache back identically', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'folder-'));
    const cacheDir = path.join(root, '.cache');
    await writeFolderDataset(path.join(root, 'data'), { classes: 2, perClass: 3, size: 8 });
    const first = await openDataset(path.join(root, 'data'), { cacheDir });
    expect(first.train.kind).toBe('memory');
    const cached = await readdir(path.join(cacheDir, 'prepared'));
    expect(cached).toHaveLength(1);
    const again = await openDataset(path.join(root, 'data'), { cacheDir });
    expect(again.train).toEqual(first.train);
    const pixel = await import('@resnet-ts/augment').then((a) =>
      a.decodeImage(path.join(root, 'data', 'class-b', '000.png')),
    );
    if (first.train.kind !== 'memory') throw new Error('expected memory');
    expect(Array.from(first.train.images.subarray(3 * 192, 4 * 192))).toEqual(Array.from(pixel.data));
  });

  it('reads an archive of class folders like the folder itself', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'folder-'));
    await writeFolderDataset(path.join(root, 'data'), { classes: 2, perClass: 2, size: 8 });
    const entries: Record<string, Uint8Array> = {};
    for (const c of ['class-a', 'class-b']) {
      for (const f of await readdir(path.join(root, 'data', c)))
        entries[`train/${c}/${f}`] = await readFile(path.join(root, 'data', c, f));
    }
    await writeTarGz(path.join(root, 'data.tar.gz'), entries);
    const fromArchive = await prepareImages(path.join(root, 'data.tar.gz'));
    const fromFolder = await prepareImages(await scanImageFolder(path.join(root, 'data')));
    expect(fromArchive.classes).toEqual(fromFolder.classes);
    expect(fromArchive.images).toEqual(fromFolder.images);
  });

  it('names an unreadable image and mismatched sizes', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'folder-'));
    await writeFolderDataset(root, { classes: 2, perClass: 2, size: 8 });
    await writeFile(path.join(root, 'class-a', 'broken.jpg'), 'this is text');
    await expect(openDataset(root, { cacheDir: path.join(root, '..', 'c1') })).rejects.toThrow(
      /class-a\/broken.jpg: unreadable image/,
    );
    const other = await mkdtemp(path.join(os.tmpdir(), 'folder-'));
    await writeFolderDataset(other, { classes: 2, perClass: 1, size: 8 });
    await writeFolderDataset(path.join(other, 'x'), { classes: 1, perClass: 1, size: 9 });
    await import('node:fs/promises').then((fs) =>
      fs.rename(path.join(other, 'x', 'class-a', '000.png'), path.join(other, 'class-b', 'big.png')),
    );
    await import('node:fs/promises').then((fs) => fs.rm(path.join(other, 'x'), { recursive: true }));
    await expect(prepareImages(await scanImageFolder(other))).rejects.toThrow(
      /big.png: is 9×9, but .* is 8×8; pass --image-size/,
    );
    expect((await prepareImages(await scanImageFolder(other), { size: 8 })).images).toHaveLength(3 * 192);
  });
});
