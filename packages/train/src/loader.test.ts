import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BatchSource, Preprocessing } from './assemble';
import { scanImageFolder } from './data/folder';
import { BatchLoader, toBatches } from './loader';
import { writeFolderDataset } from './testing/fixtures';

const preprocessing: Preprocessing = {
  train: { steps: [{ op: 'padCropFlip', padding: 2 }], normalization: { mode: 'tf' } },
  eval: { steps: [], normalization: { mode: 'tf' } },
  inputSize: [8, 8],
};

async function collect(loader: BatchLoader, batches: Int32Array[], mode: 'train' | 'eval', epoch: number) {
  const out: Float32Array[] = [];
  for await (const { x } of loader.batches(batches, mode, 5, epoch)) out.push(x);
  await loader.close();
  return out;
}

describe('BatchLoader', () => {
  const images = new Uint8Array(new SharedArrayBuffer(20 * 8 * 8 * 3)).map((_, i) => (i * 7) % 256);
  const source: BatchSource = { kind: 'memory', images, height: 8, width: 8 };
  const batches = toBatches(
    Int32Array.from({ length: 20 }, (_, i) => 19 - i),
    6,
  );

  it('splits an order into batches, the last one smaller', () => {
    expect(batches.map((b) => b.length)).toEqual([6, 6, 6, 2]);
  });

  it('gives the same batches with 0, 1 or 3 worker threads', async () => {
    const inline = await collect(new BatchLoader(source, preprocessing, { workers: 0 }), batches, 'train', 2);
    expect(
      await collect(new BatchLoader(source, preprocessing, { workers: 1 }), batches, 'train', 2),
    ).toEqual(inline);
    expect(
      await collect(new BatchLoader(source, preprocessing, { workers: 3, prefetch: 5 }), batches, 'train', 2),
    ).toEqual(inline);
    expect(
      await collect(new BatchLoader(source, preprocessing, { workers: 0 }), batches, 'train', 3),
    ).not.toEqual(inline);
  });

  it('evaluation batches are the normalised pixels, unaugmented', async () => {
    const [first] = await collect(
      new BatchLoader(source, preprocessing, { workers: 0 }),
      [Int32Array.from([1])],
      'eval',
      0,
    );
    expect(first![0]).toBeCloseTo(images[192]! / 127.5 - 1, 6);
  });

  it('decodes files in workers and reports an unreadable one by name', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'loader-'));
    await writeFolderDataset(root, { classes: 2, perClass: 2, size: 8 });
    const { files } = await scanImageFolder(root);
    const fileSource: BatchSource = { kind: 'files', files: [...files, path.join(root, 'missing.png')] };
    const loader = new BatchLoader(fileSource, preprocessing, { workers: 2 });
    const [x] = await collect(loader, [Int32Array.from([0, 1, 2, 3])], 'train', 0);
    expect(x).toHaveLength(4 * 8 * 8 * 3);
    const failing = new BatchLoader(fileSource, preprocessing, { workers: 1 });
    await expect(collect(failing, [Int32Array.from([4])], 'eval', 0)).rejects.toThrow(/missing.png/);
    await failing.close();
  });

  it('mixes training batches identically with or without workers; targets sum to 1', async () => {
    const labels = Int32Array.from({ length: 20 }, (_, i) => i % 4);
    const mixing = { mixup: 0.4, cutmix: 1, classes: 4, labels, firstBatch: 3 };
    const run = async (workers: number) => {
      const loader = new BatchLoader(source, preprocessing, { workers });
      const out = [];
      for await (const batch of loader.batches(batches, 'train', 5, 1, mixing)) out.push(batch);
      await loader.close();
      return out;
    };
    const inline = await run(0);
    expect(await run(1)).toEqual(inline);
    for (const { targets } of inline) {
      expect(targets).toBeDefined();
      for (let n = 0; n < targets!.length / 4; n++) {
        const sum = targets!.subarray(n * 4, n * 4 + 4).reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(1, 5);
      }
    }
    const plain = await collect(new BatchLoader(source, preprocessing, { workers: 0 }), batches, 'train', 1);
    expect(inline.map((b) => b.x)).not.toEqual(plain);
  });
});
