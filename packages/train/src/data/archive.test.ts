import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeTarGz } from '../testing/archive';
import { extractTarArchive, firstTarEntry, readTarArchive } from './archive';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('tar archives', () => {
  it('reads all entries, or only the first one wanted', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'archive-'));
    const archive = path.join(root, 'a.tar.gz');
    await writeTarGz(archive, {
      'a/readme.txt': bytes('hi'),
      'a/x/1.png': bytes('one'),
      'a/y/2.png': bytes('two'),
    });
    expect((await readTarArchive(archive)).map((e) => e.name)).toEqual([
      'a/readme.txt',
      'a/x/1.png',
      'a/y/2.png',
    ]);
    const first = await firstTarEntry(archive, (name) => name.endsWith('.png'));
    expect(first?.name).toBe('a/x/1.png');
    expect(first?.data.toString()).toBe('one');
    expect(await firstTarEntry(archive, (name) => name.endsWith('.jpg'))).toBeUndefined();
  });

  it('extracts into a folder that appears only when complete, and reuses it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'archive-'));
    const archive = path.join(root, 'a.tar.gz');
    await writeTarGz(archive, { 'x/1.png': bytes('one'), 'y/2.png': bytes('two'), 'notes.txt': bytes('-') });
    const dir = path.join(root, 'out');
    await extractTarArchive(archive, dir, (name) => name.endsWith('.png'));
    expect((await readdir(dir, { recursive: true })).sort()).toEqual(['x', 'x/1.png', 'y', 'y/2.png']);
    expect(await readFile(path.join(dir, 'y', '2.png'), 'utf8')).toBe('two');
    expect(await readdir(root)).toEqual(['a.tar.gz', 'out']);
  });

  it('two extractions of one archive at once both end with the one folder', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'archive-'));
    const archive = path.join(root, 'a.tar.gz');
    const entries = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`c${i % 2}/${i}.png`, bytes(`${i}`)]),
    );
    await writeTarGz(archive, entries);
    const dir = path.join(root, 'out');
    expect(await Promise.all([extractTarArchive(archive, dir), extractTarArchive(archive, dir)])).toEqual([
      dir,
      dir,
    ]);
    expect((await readdir(root)).sort()).toEqual(['a.tar.gz', 'out']);
    expect((await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.png'))).toHaveLength(50);
  });

  it('a damaged archive leaves no partial folder behind', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'archive-'));
    const archive = path.join(root, 'a.tar.gz');
    const noise = (i: number) => Uint8Array.from({ length: 4096 }, (_, k) => (k * 31 + i * 17) % 251);
    await writeTarGz(
      archive,
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`c/${i}.png`, noise(i)])),
    );
    const whole = await readFile(archive);
    await writeFile(archive, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(extractTarArchive(archive, path.join(root, 'out'))).rejects.toThrow(
      /not a readable tar.gz archive/,
    );
    expect(await readdir(root)).toEqual(['a.tar.gz']);
  });

  it('refuses an entry that would land outside the folder, leaving nothing behind', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'archive-'));
    const archive = path.join(root, 'evil.tar.gz');
    await writeTarGz(archive, { 'x/1.png': bytes('one'), 'x/../../escape.png': bytes('!') });
    await expect(extractTarArchive(archive, path.join(root, 'out'))).rejects.toThrow(
      `${archive}: entry x/../../escape.png would be extracted outside its folder`,
    );
    expect(await readdir(root)).toEqual(['evil.tar.gz']);
  });
});
