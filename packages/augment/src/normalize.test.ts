import type { RgbImage } from './image';
import { CAFFE_BGR_MEAN, IMAGENET_PER_CHANNEL, meanImage, normalizeImage } from './normalize';

const image = (pixels: number[][], width: number): RgbImage => ({
  data: Uint8Array.from(pixels.flat()),
  width,
  height: pixels.length / width,
  channels: 3,
});

describe('normalizeImage', () => {
  const img = image(
    [
      [0, 128, 255],
      [10, 20, 30],
    ],
    2,
  );

  it('caffe: RGB to BGR and the ImageNet means subtracted, to the decimal', () => {
    const out = Array.from(normalizeImage(img, { mode: 'caffe' }));
    const expected = [255 - 103.939, 128 - 116.779, 0 - 123.68, 30 - 103.939, 20 - 116.779, 10 - 123.68];
    for (const [i, v] of out.entries()) expect(v).toBeCloseTo(expected[i]!, 3);
    expect(CAFFE_BGR_MEAN).toEqual([103.939, 116.779, 123.68]);
  });

  it('tf scales to [-1, 1], none keeps 0–255, per-channel uses mean and std', () => {
    expect(Array.from(normalizeImage(img, { mode: 'tf' })).slice(0, 3)).toEqual([
      -1,
      Math.fround(128 / 127.5 - 1),
      1,
    ]);
    expect(Array.from(normalizeImage(img, { mode: 'none' }))).toEqual([0, 128, 255, 10, 20, 30]);
    const out = normalizeImage(img, IMAGENET_PER_CHANNEL);
    expect(out[0]).toBeCloseTo((0 - 0.485 * 255) / (0.229 * 255), 5);
    expect(out[5]).toBeCloseTo((30 - 0.406 * 255) / (0.225 * 255), 5);
  });

  it('per-pixel mean: computes the mean image and subtracts it', () => {
    const a = image(
      [
        [0, 0, 0],
        [10, 10, 10],
      ],
      2,
    );
    const b = image(
      [
        [4, 8, 12],
        [20, 30, 40],
      ],
      2,
    );
    const spec = meanImage([a, b]);
    expect(spec).toEqual({ mode: 'per-pixel-mean', width: 2, height: 1, mean: [2, 4, 6, 15, 20, 25] });
    expect(Array.from(normalizeImage(b, spec))).toEqual([2, 4, 6, 5, 10, 15]);
    expect(() => normalizeImage(image([[1, 2, 3]], 1), spec)).toThrow(
      /mean image is 2x1 but the image is 1x1/,
    );
    expect(() => meanImage([a, image([[1, 2, 3]], 1)])).toThrow(/expected all 2x1, got 1x1 at index 1/);
  });
});
