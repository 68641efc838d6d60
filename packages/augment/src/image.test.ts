import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, encodeImage, ImageDecodeError, type RgbImage } from './image';

const dir = mkdtempSync(join(tmpdir(), 'augment-'));
const rgb = (width: number, height: number): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return { data, width, height, channels: 3 };
};

describe('decodeImage', () => {
  it('round-trips PNG exactly and JPEG closely', async () => {
    const image = rgb(16, 8);
    const png = await decodeImage(await encodeImage(image, 'png'));
    expect(png).toEqual(image);
    const jpeg = await decodeImage(await encodeImage(rgb(16, 8), 'jpeg', 95));
    expect([jpeg.width, jpeg.height, jpeg.channels]).toEqual([16, 8, 3]);
  });

  it('expands grayscale, drops alpha and applies EXIF orientation', async () => {
    const gray = await sharp(Buffer.alloc(6, 90), { raw: { width: 3, height: 2, channels: 1 } })
      .png()
      .toBuffer();
    const decodedGray = await decodeImage(gray);
    expect(decodedGray.channels).toBe(3);
    expect(Array.from(decodedGray.data.subarray(0, 3))).toEqual([90, 90, 90]);
    const rgba = await sharp(Buffer.from([10, 20, 30, 255, 40, 50, 60, 255]), {
      raw: { width: 2, height: 1, channels: 4 },
    })
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(rgba)).data)).toEqual([10, 20, 30, 40, 50, 60]);
    // Orientation 6: stored 4x2, displayed 2x4.
    const rotated = await sharp(Buffer.from(rgb(4, 2).data), { raw: { width: 4, height: 2, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const upright = await decodeImage(rotated);
    expect([upright.width, upright.height]).toEqual([2, 4]);
  });

  it('converts CMYK JPEGs and 16-bit PNGs to 8-bit RGB', async () => {
    const source = rgb(8, 8);
    const raw = sharp(Buffer.from(source.data), { raw: { width: 8, height: 8, channels: 3 } });
    const cmyk = await raw.clone().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const fromCmyk = await decodeImage(cmyk);
    expect([fromCmyk.width, fromCmyk.height, fromCmyk.channels, fromCmyk.data.length]).toEqual([
      8, 8, 3, 192,
    ]);
    const png16 = await raw.clone().toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const from16 = await decodeImage(png16);
    expect(Array.from(from16.data)).toEqual(Array.from(source.data)); // 16-bit PNG round-trips to the same bytes
  });

  it('names the file for a text file called .jpg, a corrupt JPEG and a truncated PNG', async () => {
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'this is not an image\n');
    await expect(decodeImage(text)).rejects.toThrow(new RegExp(`^${text}: not a decodable image`));

    const jpeg = await encodeImage(rgb(32, 32), 'jpeg');
    const corrupt = Buffer.from(jpeg);
    corrupt.fill(0, 20, 200); // destroy the tables
    const corruptPath = join(dir, 'corrupt.jpg');
    writeFileSync(corruptPath, corrupt);
    await expect(decodeImage(corruptPath)).rejects.toBeInstanceOf(ImageDecodeError);

    const png = await encodeImage(rgb(64, 64), 'png');
    const truncatedPath = join(dir, 'truncated.png');
    writeFileSync(truncatedPath, png.subarray(0, Math.floor(png.length / 2)));
    await expect(decodeImage(truncatedPath)).rejects.toThrow(/truncated\.png: not a decodable image/);
    expect(readdirSync(dir).sort()).toEqual(['corrupt.jpg', 'notes.jpg', 'truncated.png']); // nothing written
  });

  it('refuses images above the pixel limit', async () => {
    const png = await encodeImage(rgb(20, 20), 'png');
    await expect(decodeImage(png, { maxPixels: 100 })).rejects.toThrow(/exceeds 100 pixels/);
  });
});

describe('encodeImage', () => {
  it('rejects a malformed image and a bad quality', async () => {
    await expect(
      encodeImage({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }, 'png'),
    ).rejects.toThrow(/image: expected/);
    await expect(encodeImage(rgb(2, 2), 'jpeg', 0)).rejects.toThrow(
      'quality: expected an integer from 1 to 100, got 0',
    );
  });
});
