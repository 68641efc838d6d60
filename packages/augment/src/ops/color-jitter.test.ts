import type { RgbImage } from '../image';
import { colorJitter } from './color-jitter';

const scripted =
  (...values: number[]) =>
  () =>
    values.shift()!;
const img: RgbImage = { data: Uint8Array.from([100, 50, 200, 20, 40, 60]), width: 2, height: 1, channels: 3 };

describe('colorJitter', () => {
  it('scales brightness by the drawn factor, rounding and clamping', () => {
    // random 1 → factor 1 + b = 1.5
    expect(Array.from(colorJitter(img, { brightness: 0.5 }, scripted(1)).data)).toEqual([
      150, 75, 255, 30, 60, 90,
    ]);
  });

  it('zero saturation gives each pixel its luma', () => {
    // random 0 → factor 1 - 1 = 0
    const gray = colorJitter(img, { saturation: 1 }, scripted(0)).data;
    const y0 = Math.round(0.299 * 100 + 0.587 * 50 + 0.114 * 200);
    expect(Array.from(gray.subarray(0, 3))).toEqual([y0, y0, y0]);
  });

  it('zero contrast gives the mean luma everywhere; no options changes nothing', () => {
    const flat = colorJitter(img, { contrast: 1 }, scripted(0)).data;
    expect(new Set(flat).size).toBe(1);
    expect(colorJitter(img, {}, () => 0.3).data).toEqual(img.data);
  });
});
