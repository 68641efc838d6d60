import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { flipBatch, padCropFlipBatch } from './batch';
import type { RgbImage } from './image';
import { flipHorizontal, padCropFlip } from './ops';
import { sampleRandom } from './random';

tf.env().set('IS_TEST', true);

const images: RgbImage[] = [0, 1, 2, 3].map((s) => ({
  data: Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 11 + s * 53) % 256),
  width: 8,
  height: 8,
  channels: 3,
}));
const asBatch = (list: RgbImage[]) =>
  tf.tensor4d(Float32Array.from(list.flatMap((im) => Array.from(im.data))), [list.length, 8, 8, 3]);

describe('batch ops on tensors', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('pad-crop-flip on a batch equals the per-image op for the same (seed, epoch, index)', () => {
    const randoms = images.map((_, i) => sampleRandom(9, 2, 100 + i));
    const out = padCropFlipBatch(asBatch(images), 4, randoms);
    const expected = images.map((im, i) => padCropFlip(im, 4, sampleRandom(9, 2, 100 + i)));
    expect(Array.from(out.dataSync())).toEqual(Array.from(asBatch(expected).dataSync()));
  });

  it('flips exactly the samples whose draw says so', () => {
    const draws = [0.1, 0.9, 0.2, 0.7];
    const out = flipBatch(
      asBatch(images),
      draws.map((d) => () => d),
    );
    const expected = images.map((im, i) => (draws[i]! < 0.5 ? flipHorizontal(im) : im));
    expect(Array.from(out.dataSync())).toEqual(Array.from(asBatch(expected).dataSync()));
  });

  it('rejects a batch without one random source per sample', () => {
    expect(() => padCropFlipBatch(asBatch(images), 4, [Math.random])).toThrow(
      /randoms: expected one random source per sample \(4\), got 1/,
    );
  });
});
