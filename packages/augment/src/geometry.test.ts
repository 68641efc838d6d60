import { crop, flipHorizontal, flipVertical, pad } from './geometry';
import type { RgbImage } from './image';

/** A width x height image whose pixel (x, y) is [x, y, 100 + x + 10 * y]. */
function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([x, y, 100 + x + 10 * y], (y * width + x) * 3);
  return { data, width, height, channels: 3 };
}
const pixel = (image: RgbImage, x: number, y: number) =>
  Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));

describe('geometric ops', () => {
  const image = gradient(4, 3);

  it('flips horizontally and vertically', () => {
    expect(pixel(flipHorizontal(image), 0, 1)).toEqual([3, 1, 113]);
    expect(pixel(flipHorizontal(image), 3, 2)).toEqual([0, 2, 120]);
    expect(pixel(flipVertical(image), 1, 0)).toEqual([1, 2, 121]);
    expect(flipHorizontal(flipHorizontal(image))).toEqual(image);
  });

  it('crops the window at the given offsets', () => {
    const window = crop(image, 1, 2, 2, 2);
    expect([window.width, window.height]).toEqual([2, 2]);
    expect(pixel(window, 0, 0)).toEqual([2, 1, 112]);
    expect(pixel(window, 1, 1)).toEqual([3, 2, 123]);
    expect(() => crop(image, 2, 0, 2, 4)).toThrow('crop 4x2 at (0, 2) does not fit in a 4x3 image');
  });

  it('pads with the fill value on every side', () => {
    const padded = pad(image, 2, 7);
    expect([padded.width, padded.height]).toEqual([8, 7]);
    expect(pixel(padded, 0, 0)).toEqual([7, 7, 7]);
    expect(pixel(padded, 7, 6)).toEqual([7, 7, 7]);
    expect(pixel(padded, 2, 2)).toEqual([0, 0, 100]);
    expect(pixel(padded, 5, 4)).toEqual([3, 2, 123]);
    expect(() => pad(image, -1)).toThrow('amount: expected a non-negative integer, got -1');
  });
});
