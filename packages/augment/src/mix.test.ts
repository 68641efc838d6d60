import { type Batch, betaSample, cutmix, mixup } from './mix';
import { sampleRandom } from './random';

/** n images of h x w x 1 where image i is filled with value i; one-hot labels i % classes. */
function batchOf(n: number, h: number, w: number, classes: number): Batch {
  const images = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) images.fill(i, i * h * w, (i + 1) * h * w);
  const labels = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) labels[i * classes + (i % classes)] = 1;
  return { images, labels, shape: [n, h, w, 1], classes };
}

const rowSums = (labels: Float32Array, classes: number) =>
  Array.from({ length: labels.length / classes }, (_, i) =>
    labels.subarray(i * classes, (i + 1) * classes).reduce((a, b) => a + b, 0),
  );

describe('MixUp and CutMix', () => {
  it('draws λ from Beta(α, α) with mean 1/2', () => {
    const random = sampleRandom(1, 0, 0);
    const draws = Array.from({ length: 4000 }, () => betaSample(0.4, random));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.46);
    expect(mean).toBeLessThan(0.54);
    expect(draws.every((d) => d >= 0 && d <= 1)).toBe(true);
  });

  it('mixup blends images and labels with one λ; labels still sum to 1', () => {
    const batch = batchOf(6, 2, 2, 3);
    const out = mixup(batch, 0.4, sampleRandom(2, 0, 0));
    for (const s of rowSums(out.labels, 3)) expect(s).toBeCloseTo(1, 6);
    // Each mixed image is constant: λ·i + (1-λ)·partner; recover λ from the labels of sample 0.
    expect(new Set(out.images.subarray(0, 4)).size).toBe(1);
    expect(mixup(batch, 0.4, sampleRandom(2, 0, 0))).toEqual(out);
  });

  it('cutmix pastes a box from a partner and mixes labels by its exact area', () => {
    const batch = batchOf(4, 8, 8, 4);
    const out = cutmix(batch, 1, sampleRandom(3, 0, 0));
    for (const s of rowSums(out.labels, 4)) expect(s).toBeCloseTo(1, 6);
    for (let i = 0; i < 4; i++) {
      const pixels = Array.from(out.images.subarray(i * 64, (i + 1) * 64));
      const own = pixels.filter((v) => v === i).length / 64;
      // Label weight of the sample's own class equals the share of its own pixels (unless paired with itself).
      const partnerShare = 1 - own;
      if (partnerShare > 0) expect(out.labels[i * 4 + (i % 4)]).toBeCloseTo(own, 6);
    }
  });

  it('rejects inconsistent batches', () => {
    const batch = batchOf(2, 2, 2, 3);
    expect(() => mixup({ ...batch, labels: new Float32Array(5) }, 0.2, Math.random)).toThrow(
      /labels: expected 2 x 3 values/,
    );
    expect(() => cutmix(batch, 0, Math.random)).toThrow('alpha: expected a positive number, got 0');
  });
});
