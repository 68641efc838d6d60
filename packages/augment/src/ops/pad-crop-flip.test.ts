import type { RgbImage } from '../image';
import { sampleRandom } from '../random';
import { padCropFlip } from './pad-crop-flip';

/** A width x height image whose pixel (x, y) is [x, y, 100 + x + 10 * y]. */
function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([x, y, 100 + x + 10 * y], (y * width + x) * 3);
  return { data, width, height, channels: 3 };
}
const pixel = (image: RgbImage, x: number, y: number) =>
  Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));

describe('padCropFlip', () => {
  it('pad-crop-flip keeps the size, depends only on (seed, epoch, index), and varies with them', () => {
    const cifar = gradient(32, 32);
    const run = (seed: number, epoch: number, index: number) =>
      padCropFlip(cifar, 4, sampleRandom(seed, epoch, index));
    expect(run(1, 0, 5)).toEqual(run(1, 0, 5));
    expect([run(1, 0, 5).width, run(1, 0, 5).height]).toEqual([32, 32]);
    const variants = new Set(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Buffer.from(run(1, 0, i).data).toString('base64')),
    );
    expect(variants.size).toBeGreaterThan(4);
    expect(run(1, 0, 5)).not.toEqual(run(2, 0, 5));
  });

  it('pad-crop-flip shows zero padding exactly where the crop leaves the image', () => {
    // Scripted draws: top offset, left offset, then the flip draw (< 0.5 flips).
    const scripted =
      (...values: number[]) =>
      () =>
        values.shift()!;
    const topLeft = padCropFlip(gradient(8, 8), 4, scripted(0, 0, 0.9));
    expect(pixel(topLeft, 0, 0)).toEqual([0, 0, 0]);
    expect(pixel(topLeft, 4, 4)).toEqual([0, 0, 100]);
    expect(pixel(topLeft, 7, 7)).toEqual([3, 3, 133]);
    const bottomRight = padCropFlip(gradient(8, 8), 4, scripted(0.99, 0.99, 0.9)); // offset 8
    expect(pixel(bottomRight, 0, 0)).toEqual([4, 4, 144]);
    expect(pixel(bottomRight, 7, 7)).toEqual([0, 0, 0]);
    const flipped = padCropFlip(gradient(8, 8), 4, scripted(0.5, 0.5, 0.1)); // offset 4: the image, mirrored
    expect(pixel(flipped, 0, 0)).toEqual([7, 0, 107]);
  });
});
