import { colorJitter, randomErasing } from './color';
import type { RgbImage } from './image';
import { sampleRandom } from './random';

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

describe('randomErasing', () => {
  const big: RgbImage = { data: new Uint8Array(10 * 10 * 3).fill(9), width: 10, height: 10, channels: 3 };

  it('erases one rectangle where the draws put it', () => {
    // apply (0 < 0.5), area 0.02 + 0.31 * 0.2 ≈ 8.2 px, aspect exp(mid) ≈ 1 → 3x3, top 0, left 0
    const out = randomErasing(big, scripted(0, 0.2, 0.5, 0, 0));
    const zeros = [];
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 10; x++) if (out.data[(y * 10 + x) * 3] === 0) zeros.push([x, y]);
    expect(zeros).toEqual([0, 1, 2].flatMap((y) => [0, 1, 2].map((x) => [x, y])));
  });

  it('leaves the image alone with probability 1 - p and is seeded', () => {
    expect(randomErasing(big, () => 0.9)).toBe(big);
    expect(randomErasing(big, sampleRandom(3, 1, 4))).toEqual(randomErasing(big, sampleRandom(3, 1, 4)));
  });
});
