import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { createCheck } from './check';
import { WeightedSemaphore } from './limits';
import { resolveOptions } from './options';
import { jpeg } from './testing/server';
import { validateImage } from './validate';

/** A small real PNG whose header claims `width` × `height`: a decompression bomb's shape, cheaply. */
async function claimedPng(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  );
  // IHDR: length (4) and type (4) at byte 8, width and height at 16 and 20, its CRC at 29.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

const settings = (extra: object = {}) =>
  resolveOptions({ out: '', classes: [], urls: new Map(), perClass: 1, minBytes: 10, ...extra });

describe('decode limits', () => {
  it('an image over the pixel limit is a decompression bomb, refused from its header', async () => {
    const bomb = await claimedPng(20_000, 20_000); // 400 MP: 1.2 GB if decoded
    const check = createCheck(settings());
    const started = performance.now();
    expect(await check(bomb)).toMatchObject({
      status: 'failed',
      failure: {
        kind: 'decompression-bomb',
        message: '20000×20000 = 400 MP > the 50 MP limit (maxPixels)',
      },
    });
    expect(performance.now() - started).toBeLessThan(1000); // not decoded
    const limits = { minBytes: 10, minWidth: 32, minHeight: 32, maxPixels: 1000 };
    expect(await validateImage(await jpeg(1, 64, 48), limits)).toMatchObject({
      ok: false,
      kind: 'decompression-bomb',
      message: '64×48 = 0 MP > the 0 MP limit (maxPixels)',
    });
    expect(await validateImage(await jpeg(1, 64, 48), { ...limits, maxPixels: 64 * 48 })).toMatchObject({
      ok: true,
    });
  });

  it('a truncated or garbled header is corrupt, not a bomb', async () => {
    const png = await claimedPng(64, 64);
    const garbled = Buffer.concat([png.subarray(0, 8), Buffer.alloc(200, 7)]);
    expect(await createCheck(settings())(garbled)).toMatchObject({
      status: 'failed',
      failure: { kind: 'corrupt' },
    });
  });

  it('images larger than the decode budget still pass, one at a time', async () => {
    const check = createCheck(settings({ decodeMemoryBytes: 1 }));
    const verdicts = await Promise.all([1, 2, 3, 4].map(async (n) => check(await jpeg(n, 64, 48))));
    expect(verdicts.map((v) => v.status)).toEqual(['passed', 'passed', 'passed', 'passed']);
  });

  it('refuses a zero pixel limit or decode budget', () => {
    expect(() => settings({ maxPixels: 0 })).toThrow('maxPixels: expected a positive integer, got 0');
    expect(() => settings({ decodeMemoryBytes: -1 })).toThrow(
      'decodeMemoryBytes: expected a positive integer, got -1',
    );
  });
});

describe('the decode memory budget', () => {
  it('never lets weights sum past it; a heavier-than-budget holder runs alone; first come, first served', async () => {
    const budget = new WeightedSemaphore(10);
    const order: string[] = [];
    const a = await budget.acquire(6);
    const b = budget.acquire(6).then((release) => {
      order.push('b');
      return release;
    });
    const c = budget.acquire(1).then((release) => {
      order.push('c');
      return release;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]); // c fits, but waits behind b
    a();
    const releaseB = await b;
    const releaseC = await c;
    expect(order).toEqual(['b', 'c']);
    const huge = budget.acquire(1000).then((release) => {
      order.push('huge');
      return release;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['b', 'c']);
    releaseB();
    releaseC();
    releaseC(); // twice is harmless
    (await huge)();
    expect(order).toEqual(['b', 'c', 'huge']);
    (await budget.acquire(10))();
  });
});
