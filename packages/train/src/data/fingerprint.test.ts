import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFolderDataset } from '../testing/fixtures';
import { datasetFingerprint } from './fingerprint';
import { scanImageFolder } from './folder';

describe('datasetFingerprint', () => {
  it('is the same for moved data and differs when a file changes', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'fingerprint-'));
    await writeFolderDataset(path.join(root, 'a'), { classes: 2, perClass: 3, size: 80 });
    await cp(path.join(root, 'a'), path.join(root, 'moved'), { recursive: true });
    const original = await datasetFingerprint(await scanImageFolder(path.join(root, 'a')));
    expect(await datasetFingerprint(await scanImageFolder(path.join(root, 'moved')))).toBe(original);
    await writeFile(path.join(root, 'moved', 'class-b', '001.png'), 'not the same bytes');
    expect(await datasetFingerprint(await scanImageFolder(path.join(root, 'moved')))).not.toBe(original);
  });
});
