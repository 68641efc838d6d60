import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeTarGz } from '../testing/archive';
import { writeFolderDataset } from '../testing/fixtures';
import { defaultCacheDir, openDataset } from './open';

describe('defaultCacheDir', () => {
  const saved = process.env.XDG_CACHE_HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  });

  it('follows XDG_CACHE_HOME when it is set', () => {
    process.env.XDG_CACHE_HOME = path.join(os.tmpdir(), 'xdg-cache');
    expect(defaultCacheDir()).toBe(path.join(os.tmpdir(), 'xdg-cache', 'resnet-ts'));
  });

  it('falls back to ~/.cache when XDG_CACHE_HOME is unset or empty', () => {
    delete process.env.XDG_CACHE_HOME;
    expect(defaultCacheDir()).toBe(path.join(os.homedir(), '.cache', 'resnet-ts'));
    process.env.XDG_CACHE_HOME = '';
    expect(defaultCacheDir()).toBe(path.join(os.homedir(), '.cache', 'resnet-ts'));
  });
});

describe('openDataset on archives', () => {
  /** Packs `dir`'s files into `archive` under `prefix`. */
  async function packFolder(dir: string, archive: string, prefix: string): Promise<void> {
    const entries: Record<string, Uint8Array> = {};
    for (const file of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const full = path.join(file.parentPath, file.name);
      entries[path.posix.join(prefix, path.relative(dir, full).split(path.sep).join('/'))] =
        await readFile(full);
    }
    await writeTarGz(archive, entries);
  }

  it('extracts large images once into the cache and opens them as files, train/ and val/ trees too', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'open-large-'));
    await writeFolderDataset(path.join(root, 'big', 'train'), { classes: 2, perClass: 2, size: 80 });
    await writeFolderDataset(path.join(root, 'big', 'val'), { classes: 2, perClass: 1, size: 80, seed: 2 });
    const archive = path.join(root, 'big.tar.gz');
    await packFolder(path.join(root, 'big'), archive, 'photos');
    const cacheDir = path.join(root, 'cache');
    const opened = await openDataset(archive, { cacheDir });
    expect(opened.train.kind).toBe('files');
    expect(opened.train.classes).toEqual(['class-a', 'class-b']);
    expect(Array.from(opened.train.labels)).toEqual([0, 0, 1, 1]);
    expect(opened.heldOutRole).toBe('validation');
    expect(opened.heldOut?.labels).toHaveLength(2);
    const again = await openDataset(archive, { cacheDir });
    expect(again.train).toEqual(opened.train);
    expect(await readdir(path.join(cacheDir, 'extracted'))).toHaveLength(1);
    // A run trained on these decoded in memory (made before large archives stayed files) reopens them so.
    const decoded = await openDataset(archive, { cacheDir, inMemory: true });
    expect(decoded.train.kind).toBe('memory');
    expect(decoded.train.labels).toHaveLength(6); // train/ and val/ both, as that code read them
  });

  it('decodes small images into memory, and refuses small train/ and val/ trees it would merge', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'open-small-'));
    await writeFolderDataset(path.join(root, 'small', 'train'), { classes: 2, perClass: 2, size: 8 });
    await writeFolderDataset(path.join(root, 'small', 'val'), { classes: 2, perClass: 1, size: 8 });
    const trainOnly = path.join(root, 'train-only.tar.gz');
    await packFolder(path.join(root, 'small', 'train'), trainOnly, 'cifar');
    const opened = await openDataset(trainOnly, { cacheDir: path.join(root, 'cache') });
    expect(opened.train.kind).toBe('memory');
    expect(opened.train.labels).toHaveLength(4);
    const trees = path.join(root, 'trees.tar.gz');
    await packFolder(path.join(root, 'small'), trees, 'cifar');
    await expect(openDataset(trees, { cacheDir: path.join(root, 'cache') })).rejects.toThrow(
      `${trees}: holds train/ and val/ trees; extract it and pass the folder, whose val/ is then used for validation`,
    );
  });
});

describe('openDataset on large images', () => {
  it('reads every header when opening, so a bad file fails now, named, not in the middle of training', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'large-'));
    await writeFolderDataset(root, { classes: 2, perClass: 3, size: 80 });
    const options = { cacheDir: path.join(root, '..', `${path.basename(root)}-cache`) };
    expect((await openDataset(root, options)).train.kind).toBe('files');
    expect(await readdir(path.join(options.cacheDir, 'verified'))).toHaveLength(1); // not read again

    await writeFile(path.join(root, 'class-b', 'zz.jpg'), '<html>not found</html>');
    await expect(openDataset(root, options)).rejects.toThrow(
      new RegExp(`^${path.join(root, 'class-b', 'zz.jpg')} \\(.+\\): unreadable image; fix or remove it$`),
    );
    await writeFile(path.join(root, 'class-a', 'zz.png'), new Uint8Array(0));
    await expect(openDataset(root, options)).rejects.toThrow(
      /^2 unreadable images: .*class-a\/zz\.png \(.+\); .*class-b\/zz\.jpg \(.+\); fix or remove them$/,
    );
  });
});
