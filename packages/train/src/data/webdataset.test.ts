import { createWriteStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { encodeImage } from '@resnet-ts/augment';
import { pack } from 'tar-stream';
import { writeTarGz } from '../testing/archive';
import { countSourceImages, openDataset } from './open';
import { expandBraces } from './webdataset';

/** A flat image of one colour: class c is tinted by c, sample n by n. */
const image = (size: number, c: number, n: number) =>
  encodeImage(
    {
      data: new Uint8Array(size * size * 3).map((_, i) => (i % 3 === c % 3 ? 200 : 40) + n),
      width: size,
      height: size,
      channels: 3,
    },
    'png',
  );

interface Sample {
  key: string;
  cls?: number;
  name?: string;
  size?: number;
}

/** A shard as the scraper writes one: `{key}.png`, `{key}.cls`, `{key}.json` per sample. */
async function writeShard(file: string, samples: Sample[]): Promise<void> {
  const tar = pack();
  const done = pipeline(tar, createWriteStream(file));
  for (const [n, s] of samples.entries()) {
    tar.entry({ name: `${s.key}.png` }, Buffer.from(await image(s.size ?? 8, s.cls ?? 0, n)));
    if (s.cls !== undefined) tar.entry({ name: `${s.key}.cls` }, String(s.cls));
    tar.entry({ name: `${s.key}.json` }, JSON.stringify({ key: s.key, class: s.name, cls: s.cls }));
  }
  tar.finalize();
  await done;
}

const classes = [
  { index: 0, wnid: 'n01440764', name: 'tench' },
  { index: 1, wnid: 'n01443537', name: 'goldfish' },
  { index: 2, wnid: 'n01484850', name: 'great white shark' },
];
const sample = (c: number, n: number, size = 8): Sample => ({
  key: `${classes[c]?.wnid}_${String(n).padStart(16, '0')}`,
  cls: c,
  name: classes[c]?.name,
  size,
});

/** Two shards of three (class order, as the scraper writes them) and their index. */
async function writeDataset(dir: string, size = 8): Promise<void> {
  await writeShard(path.join(dir, 'shard-000000.tar'), [
    sample(0, 0, size),
    sample(0, 1, size),
    sample(1, 2, size),
  ]);
  await writeShard(path.join(dir, 'shard-000001.tar'), [
    sample(1, 3, size),
    sample(2, 4, size),
    sample(2, 5, size),
  ]);
  const index = {
    format: 'resnet-ts-webdataset',
    version: 1,
    prefix: 'shard',
    shardSize: 3,
    images: 6,
    classes,
    shards: [
      { name: 'shard-000000.tar', count: 3, classes: { n01440764: 2, n01443537: 1 } },
      { name: 'shard-000001.tar', count: 3, classes: { n01443537: 1, n01484850: 2 } },
    ],
  };
  await writeFile(path.join(dir, 'shards.json'), JSON.stringify(index));
}

describe('openDataset on WebDataset shards', () => {
  it('reads a folder with shards.json: classes and labels from the index, small images decoded', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'wds-'));
    await writeDataset(root);
    const cacheDir = path.join(root, '..', `${path.basename(root)}-cache`);
    const opened = await openDataset(root, { cacheDir });
    expect(opened.train.kind).toBe('memory');
    expect(opened.train.classes).toEqual(['tench', 'goldfish', 'great white shark']);
    expect(Array.from(opened.train.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(await countSourceImages(root)).toBe(6);
    const again = await openDataset(root, { cacheDir });
    expect(Array.from(again.train.labels)).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('keeps large images as files, extracted once', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'wds-large-'));
    await writeDataset(root, 80);
    const cacheDir = path.join(root, '..', `${path.basename(root)}-cache`);
    const opened = await openDataset(root, { cacheDir });
    if (opened.train.kind !== 'files') throw new Error('expected files');
    expect(opened.train.files.map((f) => path.relative(opened.train.source, f))).toEqual([
      '000000/n01440764_0000000000000000.png',
      '000000/n01440764_0000000000000001.png',
      '000000/n01443537_0000000000000002.png',
      '000001/n01443537_0000000000000003.png',
      '000001/n01484850_0000000000000004.png',
      '000001/n01484850_0000000000000005.png',
    ]);
    expect((await openDataset(root, { cacheDir })).train).toEqual(opened.train);
  });

  it('reads one shard or a brace pattern: the classes they hold, numbered from 0', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'wds-some-'));
    await writeDataset(root);
    const cacheDir = path.join(root, '..', `${path.basename(root)}-cache`);
    const second = await openDataset(path.join(root, 'shard-000001.tar'), { cacheDir });
    expect(second.train.classes).toEqual(['goldfish', 'great white shark']);
    expect(Array.from(second.train.labels)).toEqual([0, 1, 1]);
    const both = await openDataset(path.join(root, 'shard-{000000..000001}.tar'), { cacheDir });
    expect(both.train.classes).toEqual(['tench', 'goldfish', 'great white shark']);
    expect(Array.from(both.train.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(await countSourceImages(path.join(root, 'shard-{000000..000001}.tar'))).toBe(6);

    // Without an index beside it: names from the samples' .json.
    const alone = await mkdtemp(path.join(os.tmpdir(), 'wds-alone-'));
    await writeShard(path.join(alone, 'x.tar'), [sample(1, 0), sample(2, 1)]);
    const opened = await openDataset(path.join(alone, 'x.tar'), { cacheDir });
    expect(opened.train.classes).toEqual(['goldfish', 'great white shark']);
    expect(Array.from(opened.train.labels)).toEqual([0, 1]);

    // A folder of nothing but shards, no index: every shard, in name order.
    await writeShard(path.join(alone, 'w.tar'), [sample(0, 2)]);
    const folder = await openDataset(alone, { cacheDir });
    expect(folder.train.classes).toEqual(['tench', 'goldfish', 'great white shark']);
    expect(Array.from(folder.train.labels)).toEqual([0, 1, 2]);
    expect(await countSourceImages(alone)).toBe(3);
  });

  it('still reads a tar of class folders; refuses an index that is not ours, a sample without a class, a missing shard', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'wds-bad-'));
    const cacheDir = path.join(root, 'cache');
    const folders = path.join(root, 'folders.tar.gz');
    await writeTarGz(folders, {
      'a/1.png': await image(8, 0, 0),
      'b/2.png': await image(8, 1, 0),
    });
    expect((await openDataset(folders, { cacheDir })).train.classes).toEqual(['a', 'b']);

    const foreign = path.join(root, 'foreign');
    const dir = await mkdtemp(`${foreign}-`);
    await writeFile(path.join(dir, 'shards.json'), '{"shards": ["a.tar"]}');
    await expect(openDataset(dir, { cacheDir })).rejects.toThrow(
      `${path.join(dir, 'shards.json')}: not a resnet-ts-webdataset index (shards.json as resnet scrape writes it)`,
    );

    const unlabelled = path.join(root, 'unlabelled.tar');
    await writeShard(unlabelled, [sample(0, 0), { key: 'k1', cls: 1 }, { key: 'k2' }]);
    await expect(openDataset(unlabelled, { cacheDir })).rejects.toThrow(
      `${unlabelled}: sample k2 has no .cls member (its class index)`,
    );

    const missing = await mkdtemp(path.join(root, 'missing-'));
    await writeDataset(missing);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(missing, 'shard-000001.tar'));
    await expect(openDataset(missing, { cacheDir })).rejects.toThrow(
      `${missing}: shards.json lists shard-000001.tar, which does not exist`,
    );
    await expect(openDataset(path.join(missing, 'shard-{000000..000001}.tar'), { cacheDir })).rejects.toThrow(
      `${path.join(missing, 'shard-000001.tar')} does not exist`,
    );
  });

  it('expands brace patterns as WebDataset does', () => {
    expect(expandBraces('s-{000008..000011}.tar')).toEqual([
      's-000008.tar',
      's-000009.tar',
      's-000010.tar',
      's-000011.tar',
    ]);
    expect(expandBraces('{a,b}-{1..2}')).toEqual(['a-1', 'a-2', 'b-1', 'b-2']);
    expect(expandBraces('plain.tar')).toEqual(['plain.tar']);
  });
});
