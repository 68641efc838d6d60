import type { RgbImage } from '../image';
import { resize } from '../resize';
import { resizeAndCenterCrop } from './resize-and-center-crop';

const solid = (width: number, height: number, value = 77): RgbImage => ({
  data: new Uint8Array(width * height * 3).fill(value),
  width,
  height,
  channels: 3,
});

describe('resizeAndCenterCrop', () => {
  it('resizes the shorter side then crops the centre (torchvision evaluation)', async () => {
    const out = await resizeAndCenterCrop(solid(400, 300), 256, 224);
    expect([out.width, out.height]).toEqual([224, 224]);
    expect(out.data.every((v) => v === 77)).toBe(true);
    expect((await resize(solid(4, 2), 8, 4)).data.length).toBe(8 * 4 * 3);
  });
});
