import type { RgbImage } from '../image';
import { sampleRandom } from '../random';
import { randomErasing } from './random-erasing';

const scripted =
  (...values: number[]) =>
  () =>
    values.shift()!;

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
