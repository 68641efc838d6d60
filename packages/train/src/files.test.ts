import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { publishAtomic, writeFileAtomic } from './files';

describe('publishAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'publish-'));
  });

  it('replaces a file or a folder, and a failed fill leaves the old one and no temp', async () => {
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    await expect(
      publishAtomic(file, async (temp) => {
        await writeFile(temp, 'half');
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    expect(await readFile(file, 'utf8')).toBe('two');

    const folder = path.join(dir, 'cache');
    const fillWith = (name: string) => async (temp: string) => {
      await mkdir(temp);
      await writeFile(path.join(temp, name), name);
    };
    expect(await publishAtomic(folder, fillWith('old'))).toBe(true);
    expect(await publishAtomic(folder, fillWith('new'))).toBe(true);
    expect(await readdir(folder)).toEqual(['new']);
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'cache']);
  });

  it("with existing: 'keep', the first to publish wins and the others' work is dropped", async () => {
    const folder = path.join(dir, 'extracted');
    const fill = (name: string, wait: number) => async (temp: string) => {
      await mkdir(temp);
      await new Promise((resolve) => setTimeout(resolve, wait));
      await writeFile(path.join(temp, name), name);
    };
    const results = await Promise.all([
      publishAtomic(folder, fill('slow', 40), { existing: 'keep' }),
      publishAtomic(folder, fill('fast', 0), { existing: 'keep' }),
    ]);
    expect(results).toEqual([false, true]);
    expect(await readdir(folder)).toEqual(['fast']);
    expect(await readdir(dir)).toEqual(['extracted']);
  });
});
