import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from './atomic';

describe('writeFileAtomic', () => {
  it('replaces a file whole through a temp file, and leaves no temp file when it fails', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'atomic-'));
    const file = path.join(dir, 'stats.json');
    await writeFile(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['stats.json']);
    const temp = path.join(dir, 'image.tmp');
    await writeFileAtomic(path.join(dir, 'image.jpg'), Buffer.from([1, 2]), temp);
    expect(readdirSync(dir).sort()).toEqual(['image.jpg', 'stats.json']);
    await expect(writeFileAtomic(path.join(dir, 'no', 'such', 'file'), 'x', temp)).rejects.toThrow(/ENOENT/);
    expect(existsSync(temp)).toBe(false);
  });
});
