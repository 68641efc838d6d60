import type { RgbImage } from '../image';
import { sampleRandom } from '../random';
import { randomResizedCrop, randomResizedCropWindow } from './random-resized-crop';

const solid = (width: number, height: number, value = 77): RgbImage => ({
  data: new Uint8Array(width * height * 3).fill(value),
  width,
  height,
  channels: 3,
});

describe('randomResizedCrop', () => {
  it('random-resized-crop windows lie inside the image, respect the ranges, and are seeded', () => {
    for (let i = 0; i < 200; i++) {
      const [top, left, h, w] = randomResizedCropWindow(500, 375, sampleRandom(7, 0, i));
      expect(top).toBeGreaterThanOrEqual(0);
      expect(left).toBeGreaterThanOrEqual(0);
      expect(top + h).toBeLessThanOrEqual(375);
      expect(left + w).toBeLessThanOrEqual(500);
      const area = (w * h) / (500 * 375);
      expect(area).toBeGreaterThan(0.07);
      expect(area).toBeLessThanOrEqual(1);
    }
    expect(randomResizedCropWindow(500, 375, sampleRandom(7, 1, 3))).toEqual(
      randomResizedCropWindow(500, 375, sampleRandom(7, 1, 3)),
    );
    // An impossible scale falls back to the centred crop of the clamped aspect ratio.
    expect(randomResizedCropWindow(1000, 100, () => 0.5, { scale: [1, 1], ratio: [1, 1] })).toEqual([
      0, 450, 100, 100,
    ]);
  });

  it('randomResizedCrop produces size x size', async () => {
    const out = await randomResizedCrop(solid(320, 240), 224, sampleRandom(1, 2, 3));
    expect([out.width, out.height, out.data.length]).toEqual([224, 224, 224 * 224 * 3]);
  });
});
