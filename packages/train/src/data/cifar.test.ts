import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeTarGz } from '../testing/archive';
import { downloadCifar10, parseCifarBatches, readCifar10 } from './cifar';
import { openDataset } from './open';

/** One CIFAR record: label, then 1024 R, 1024 G, 1024 B bytes. Pixel p has R=p%256, G=label, B=7. */
function record(label: number): Uint8Array {
  const r = new Uint8Array(3073);
  r[0] = label;
  for (let p = 0; p < 1024; p++) {
    r[1 + p] = p % 256;
    r[1 + 1024 + p] = label;
    r[1 + 2048 + p] = 7;
  }
  return r;
}

const batch = (...labels: number[]) => Buffer.concat(labels.map(record));

async function cifarFiles(): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (let i = 1; i <= 5; i++) files[`cifar-10-batches-bin/data_batch_${i}.bin`] = batch(i, 9);
  files['cifar-10-batches-bin/test_batch.bin'] = batch(3);
  files['cifar-10-batches-bin/batches.meta.txt'] = Buffer.from('airplane\n');
  return files;
}

describe('CIFAR-10 binary format', () => {
  it('turns planar records into HWC pixels with labels', () => {
    const dataset = parseCifarBatches([{ name: 'b', data: batch(4, 2) }], 'test');
    expect(Array.from(dataset.labels)).toEqual([4, 2]);
    expect([dataset.height, dataset.width, dataset.images.length]).toEqual([32, 32, 2 * 3072]);
    // Second image, pixel 300 (row 9, column 12): R = 300 % 256, G = label 2, B = 7.
    const at = 3072 + 300 * 3;
    expect(Array.from(dataset.images.subarray(at, at + 3))).toEqual([44, 2, 7]);
    expect(dataset.classes[2]).toBe('bird');
  });

  it('reads the archive and an extracted directory alike', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cifar-'));
    const files = await cifarFiles();
    const archive = path.join(root, 'cifar-10-binary.tar.gz');
    await writeTarGz(archive, files);
    for (const [name, data] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, 'x', name)), { recursive: true });
      await writeFile(path.join(root, 'x', name), data);
    }
    const fromArchive = await readCifar10(archive);
    const fromDir = await readCifar10(path.join(root, 'x'));
    expect(Array.from(fromArchive.train.labels)).toEqual([1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    expect(Array.from(fromArchive.test.labels)).toEqual([3]);
    expect(fromDir.train.images).toEqual(fromArchive.train.images);
  });

  it('opens as cifar10:<archive>, resized to --image-size with its test batch', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cifar-'));
    const archive = path.join(root, 'cifar-10-binary.tar.gz');
    await writeTarGz(archive, await cifarFiles());
    const native = await openDataset(`cifar10:${archive}`);
    expect(native.heldOutRole).toBe('test');
    const resized = await openDataset(`cifar10:${archive}`, { imageSize: 48 });
    for (const dataset of [resized.train, resized.heldOut]) {
      if (dataset?.kind !== 'memory') throw new Error('expected decoded images');
      expect([dataset.height, dataset.width, dataset.images.length]).toEqual([
        48,
        48,
        dataset.labels.length * 48 * 48 * 3,
      ]);
    }
    if (resized.train.kind !== 'memory') throw new Error('expected decoded images');
    // Green holds the label in every pixel, so it survives resampling exactly.
    expect(resized.train.images[1 + 48 * 48 * 3]).toBe(9);
    expect(Array.from(resized.train.labels)).toEqual(Array.from(native.train.labels));
  });

  it('names what is wrong with a bad source', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cifar-'));
    await expect(readCifar10(path.join(root, 'missing'))).rejects.toThrow(/does not exist/);
    await expect(readCifar10(root)).rejects.toThrow(/missing data_batch_1.bin/);
    await writeFile(path.join(root, 'data_batch_1.bin'), new Uint8Array(100));
    expect(() => parseCifarBatches([{ name: 'short.bin', data: new Uint8Array(100) }], 'x')).toThrow(
      /short.bin: expected CIFAR-10 records of 3073 bytes/,
    );
    await writeFile(path.join(root, 'broken.tar.gz'), 'not gzip');
    await expect(readCifar10(path.join(root, 'broken.tar.gz'))).rejects.toThrow(
      /broken.tar.gz: not a readable tar.gz archive/,
    );
  });

  it('downloads once with a checksum check, and discards a corrupt download', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cifar-'));
    const archive = path.join(root, 'served.tar.gz');
    await writeTarGz(archive, await cifarFiles());
    const body = await import('node:fs/promises').then((fs) => fs.readFile(archive));
    let requests = 0;
    const server = createServer((_, res) => {
      requests++;
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar.tar.gz`;
    try {
      const md5 = createHash('md5').update(body).digest('hex');
      await expect(downloadCifar10(path.join(root, 'bad'), { url, md5: '0'.repeat(32) })).rejects.toThrow(
        /expected 0{32}; the download was discarded/,
      );
      expect(await readdir(path.join(root, 'bad'))).toEqual([]);
      const file = await downloadCifar10(path.join(root, 'cache'), { url, md5 });
      expect(await downloadCifar10(path.join(root, 'cache'), { url, md5 })).toBe(file);
      expect(requests).toBe(2);
      expect((await readCifar10(file)).train.labels).toHaveLength(10);
    } finally {
      server.close();
    }
  });
});
