import type { RgbImage } from './image';
import { sampleRandom } from './random';
import {
  centerCropOffsets,
  randomResizedCrop,
  randomResizedCropWindow,
  resize,
  resizeAndCenterCrop,
} from './resize';

const solid = (width: number, height: number, value = 77): RgbImage => ({
  data: new Uint8Array(width * height * 3).fill(value),
  width,
  height,
  channels: 3,
});

describe('resizing and crops', () => {
  it('center crop geometry', () => {
    expect(centerCropOffsets(256, 341, 224)).toEqual([58, 16]);
    expect(centerCropOffsets(5, 5, 3)).toEqual([1, 1]);
    expect(() => centerCropOffsets(100, 80, 90)).toThrow('center crop 90 does not fit in 100x80');
  });

  it('resizes the shorter side then crops the centre (torchvision evaluation)', async () => {
    const out = await resizeAndCenterCrop(solid(400, 300), 256, 224);
    expect([out.width, out.height]).toEqual([224, 224]);
    expect(out.data.every((v) => v === 77)).toBe(true);
    expect((await resize(solid(4, 2), 8, 4)).data.length).toBe(8 * 4 * 3);
  });

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
