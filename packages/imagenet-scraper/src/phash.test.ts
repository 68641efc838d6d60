import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { createCheck } from './check';
import { resolveOptions } from './options';
import { FLICKR_PLACEHOLDER_DHASH, hammingDistance, perceptualHash } from './phash';
import { placeholderImage } from './testing/placeholder';
import { jpeg } from './testing/server';

const settings = (extra: object = {}) =>
  resolveOptions({ out: '', classes: [], urls: new Map(), perClass: 1, minBytes: 10, ...extra });

describe('perceptual placeholder hashes', () => {
  it('the shipped hash is the generated look-alike card’s', async () => {
    expect(
      hammingDistance(await perceptualHash(await placeholderImage(500, 374)), FLICKR_PLACEHOLDER_DHASH),
    ).toBe(0);
    expect(hammingDistance('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
  });

  it('a grey card with an icon and text, re-encoded at another size and quality, is a placeholder', async () => {
    const check = createCheck(settings());
    // 333×250 is none of Flickr's sizes, and the card is not flat: only the dHash can catch it.
    for (const [width, height, quality] of [
      [333, 250, 40],
      [240, 179, 55],
      [1024, 768, 85],
    ] as const) {
      const verdict = await check(await placeholderImage(width, height, quality));
      expect(verdict).toMatchObject({
        status: 'failed',
        failure: {
          kind: 'placeholder',
          message: expect.stringMatching(
            /^looks like a known placeholder \(dHash \d bits from 0030283030700000\)$/,
          ),
        },
      });
    }
  });

  it('photos, noise and flat images are not taken for the card; the flat-card test stays', async () => {
    const check = createCheck(settings());
    expect(await check(await jpeg(7, 320, 240))).toMatchObject({ status: 'passed' });
    // A smooth gradient and a flat image of another size: low detail, still far from the card.
    const gradient = Buffer.alloc(300 * 200 * 3);
    for (let i = 0; i < gradient.length; i++) gradient[i] = Math.floor((((i / 3) % 300) / 300) * 255);
    const smooth = await sharp(gradient, { raw: { width: 300, height: 200, channels: 3 } })
      .jpeg()
      .toBuffer();
    expect(await check(smooth)).toMatchObject({ status: 'passed' });
    const flat = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ccc' } })
      .jpeg()
      .toBuffer();
    expect(await check(flat)).toMatchObject({ status: 'passed' });
    const flatCard = await sharp({ create: { width: 500, height: 374, channels: 3, background: '#ccc' } })
      .jpeg()
      .toBuffer();
    expect(await check(flatCard)).toMatchObject({
      status: 'failed',
      failure: { kind: 'placeholder', message: 'a flat 500×374 card (Flickr\'s "photo unavailable")' },
    });
  });

  it('your own placeholder by dHash or sha256, with a distance; a bad hash is one clear line', async () => {
    // Your own placeholder: a picture of 25-pixel blocks (noise would hash as noise).
    const blocks = Buffer.alloc(200 * 150 * 3);
    for (let i = 0; i < blocks.length; i++) {
      const pixel = Math.floor(i / 3);
      const block = Math.floor((pixel % 200) / 25) + 8 * Math.floor(pixel / 200 / 25);
      blocks[i] = (block * 97 + (i % 3) * 40) % 256;
    }
    const mine = await sharp(blocks, { raw: { width: 200, height: 150, channels: 3 } })
      .png()
      .toBuffer();
    const near = await sharp(mine).resize(160, 120).jpeg({ quality: 50 }).toBuffer();
    const check = createCheck(settings({ placeholderHashes: [await perceptualHash(mine)] }));
    expect(await check(near)).toMatchObject({ status: 'failed', failure: { kind: 'placeholder' } });
    const sha256 = createHash('sha256').update(near).digest('hex');
    expect(await createCheck(settings({ placeholderHashes: [sha256] }))(near)).toMatchObject({
      failure: { kind: 'placeholder', message: 'a known placeholder image' },
    });
    // The list replaced the default: the card passes now.
    expect(await check(await placeholderImage(333, 250, 40))).toMatchObject({ status: 'passed' });
    expect(() => settings({ placeholderHashes: ['abc'] })).toThrow(
      'placeholderHashes: expected a sha256 (64 hex digits) or a dHash (16), got "abc"',
    );
    expect(() => settings({ placeholderDistance: 65 })).toThrow(
      'placeholderDistance: expected an integer from 0 to 64, got 65',
    );
  });
});
