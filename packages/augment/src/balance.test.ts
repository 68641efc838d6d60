import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balanceClasses } from './balance';
import { encodeImage, type RgbImage } from './image';

const image = (seed: number): RgbImage => ({
  data: Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 13 + seed * 41) % 256),
  width: 8,
  height: 8,
  channels: 3,
});

async function fixture(counts: Record<string, number>): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'balance-'));
  for (const [name, count] of Object.entries(counts)) {
    mkdirSync(join(root, name));
    for (let i = 0; i < count; i++)
      writeFileSync(join(root, name, `img${i}.png`), await encodeImage(image(i), 'png'));
  }
  return root;
}

const listing = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((f) => `${f}:${statSync(join(dir, f)).mtimeMs}`);

describe('balanceClasses', () => {
  it('fills every class to exactly perClass with variants, and a second run changes nothing', async () => {
    const root = await fixture({ cat: 2, dog: 5, owl: 1 });
    const report = await balanceClasses(root, { perClass: 5, seed: 3 });
    for (const name of ['cat', 'dog', 'owl']) expect(readdirSync(join(root, name))).toHaveLength(5);
    expect(report.classes.cat).toEqual({ originals: 2, written: 3, removed: 0, total: 5 });
    expect(readdirSync(join(root, 'cat')).sort()).toEqual([
      'aug-0-img0.png',
      'aug-1-img1.png',
      'aug-2-img0.png',
      'img0.png',
      'img1.png',
    ]);
    const manifest = readFileSync(report.manifest, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(manifest.filter((e) => e.class === 'owl' && e.kind === 'variant')).toHaveLength(4);
    expect(manifest.find((e) => e.file === 'aug-2-img0.png')).toMatchObject({
      source: 'img0.png',
      index: 2,
      seed: 3,
    });

    const before = ['cat', 'dog', 'owl'].map((c) => listing(join(root, c)));
    const again = await balanceClasses(root, { perClass: 5, seed: 3 });
    expect(Object.values(again.classes).map((c) => c.written)).toEqual([0, 0, 0]);
    expect(['cat', 'dog', 'owl'].map((c) => listing(join(root, c)))).toEqual(before);
  });

  it('a re-run with fewer per class or other ops removes or remakes the variants it no longer wants', async () => {
    const root = await fixture({ cat: 2, owl: 1 });
    await balanceClasses(root, { perClass: 5, seed: 3 });
    writeFileSync(join(root, 'owl', 'aug-2019-beach.png'), readFileSync(join(root, 'owl', 'img0.png')));
    const fewer = await balanceClasses(root, { perClass: 3, seed: 3 });
    expect(readdirSync(join(root, 'owl'))).toContain('aug-2019-beach.png'); // never made by balance
    unlinkSync(join(root, 'owl', 'aug-2019-beach.png'));
    expect(fewer.classes.cat).toEqual({ originals: 2, written: 0, removed: 2, total: 3 });
    expect(readdirSync(join(root, 'cat')).sort()).toEqual(['aug-0-img0.png', 'img0.png', 'img1.png']);
    expect(readdirSync(join(root, 'owl'))).toHaveLength(3);
    const variant = join(root, 'owl', 'aug-1-img0.png');
    const before = readFileSync(variant);
    const reseeded = await balanceClasses(root, { perClass: 3, seed: 4 });
    expect(reseeded.classes.owl).toEqual({ originals: 1, written: 2, removed: 0, total: 3 });
    expect(readFileSync(variant).equals(before)).toBe(false);
    const manifest = readFileSync(reseeded.manifest, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(manifest.find((e) => e.file === 'aug-1-img0.png' && e.class === 'owl')).toMatchObject({ seed: 4 });
  });

  it('downsamples large classes into an output tree, leaving the originals', async () => {
    const root = await fixture({ big: 7, small: 2 });
    const out = mkdtempSync(join(tmpdir(), 'balanced-'));
    await balanceClasses(root, { perClass: 4, outDir: out, downsample: true, seed: 1 });
    expect(readdirSync(join(out, 'big'))).toHaveLength(4);
    expect(readdirSync(join(out, 'small'))).toHaveLength(4);
    expect(readdirSync(join(root, 'big'))).toHaveLength(7);
    // Another seed picks other originals: the copies no longer picked are removed from the output.
    const other = await balanceClasses(root, { perClass: 4, outDir: out, downsample: true, seed: 2 });
    expect(readdirSync(join(out, 'big'))).toHaveLength(4);
    expect(other.classes.big!.written).toBeGreaterThan(0);
    expect(other.classes.big!.removed).toBe(other.classes.big!.written);
    await expect(balanceClasses(root, { perClass: 4, downsample: true })).rejects.toThrow(
      'downsample: needs an outDir',
    );
  });

  it('fails with the folder or file named for bad input', async () => {
    const root = await fixture({ cat: 1 });
    mkdirSync(join(root, 'empty'));
    await expect(balanceClasses(root, { perClass: 2 })).rejects.toThrow(/empty: class folder has no images/);
    await expect(balanceClasses(join(root, 'missing'), { perClass: 2 })).rejects.toThrow(
      /missing: no such directory/,
    );
    const bad = await fixture({ cat: 1 });
    writeFileSync(join(bad, 'cat', 'broken.png'), 'not a png');
    await expect(balanceClasses(bad, { perClass: 4 })).rejects.toThrow(/broken\.png: not a decodable image/);
    expect(readdirSync(join(bad, 'cat')).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
});
