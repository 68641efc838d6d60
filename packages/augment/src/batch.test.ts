import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  colorJitterBatch,
  cutmixBatch,
  flipBatch,
  flipVerticalBatch,
  mixupBatch,
  padCropFlipBatch,
  randomErasingBatch,
  randomResizedCropBatch,
  resizeAndCenterCropBatch,
} from './batch';
import { colorJitter, randomErasing } from './color';
import type { RgbImage } from './image';
import { cutmix, mixup } from './mix';
import { crop, flipHorizontal, flipVertical, padCropFlip } from './ops';
import { sampleRandom } from './random';
import { randomResizedCropWindow } from './resize';

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

  const keys = (seed: number) => images.map((_, i) => sampleRandom(seed, 0, i));

  it('vertical flip on a batch equals the per-image op', () => {
    const out = flipVerticalBatch(asBatch(images), keys(4));
    const expected = images.map((im, i) => (sampleRandom(4, 0, i)() < 0.5 ? flipVertical(im) : im));
    expect(Array.from(out.dataSync())).toEqual(Array.from(asBatch(expected).dataSync()));
  });

  it('random-resized crop takes the per-image op’s windows (exact when nothing is resampled)', () => {
    const full = randomResizedCropBatch(asBatch(images), 8, keys(1), { scale: [1, 1], ratio: [1, 1] });
    expect(Array.from(full.dataSync())).toEqual(Array.from(asBatch(images).dataSync()));
    // Square windows of a fixed side, resized to that side: the crop itself.
    const options = { scale: [0.25, 0.25] as [number, number], ratio: [1, 1] as [number, number] };
    const out = randomResizedCropBatch(asBatch(images), 4, keys(2), options);
    const expected = images.map((im, i) => {
      const [top, left, h, w] = randomResizedCropWindow(8, 8, sampleRandom(2, 0, i), options);
      return crop(im, top, left, h, w);
    });
    const got = out.dataSync();
    expected
      .flatMap((im) => Array.from(im.data))
      .forEach((v, k) => {
        expect(got[k]).toBeCloseTo(v, 3);
      });
  });

  it('colour jitter on a batch equals the per-image op up to its rounding to bytes', () => {
    const options = { brightness: 0.4, contrast: 0.4, saturation: 0.4 };
    const out = colorJitterBatch(asBatch(images), options, keys(3)).dataSync();
    const expected = asBatch(
      images.map((im, i) => colorJitter(im, options, sampleRandom(3, 0, i))),
    ).dataSync();
    let worst = 0;
    expected.forEach((v, k) => {
      worst = Math.max(worst, Math.abs(v - (out[k] as number)));
    });
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
  });

  it('random erasing on a batch erases exactly the per-image op’s rectangles', () => {
    const options = { probability: 1, value: 7 };
    const out = randomErasingBatch(asBatch(images), keys(5), options);
    const expected = images.map((im, i) => randomErasing(im, sampleRandom(5, 0, i), options));
    expect(Array.from(out.dataSync())).toEqual(Array.from(asBatch(expected).dataSync()));
  });

  it('MixUp and CutMix on tensors equal the Float32Array versions, labels included', () => {
    const x = asBatch(images);
    const labels = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3), 'float32') as tf.Tensor2D;
    const batch = {
      images: x.dataSync() as Float32Array,
      labels: labels.dataSync() as Float32Array,
      shape: [4, 8, 8, 3] as [number, number, number, number],
      classes: 3,
    };
    const m = mixupBatch(x, labels, 0.4, sampleRandom(6, 0, -1));
    const mRef = mixup(batch, 0.4, sampleRandom(6, 0, -1));
    m.x.dataSync().forEach((v, k) => {
      expect(v).toBeCloseTo(mRef.images[k] as number, 3);
    });
    m.labels.dataSync().forEach((v, k) => {
      expect(v).toBeCloseTo(mRef.labels[k] as number, 5);
    });
    const c = cutmixBatch(x, labels, 1, sampleRandom(7, 0, -1));
    const cRef = cutmix(batch, 1, sampleRandom(7, 0, -1));
    expect(Array.from(c.x.dataSync())).toEqual(Array.from(cRef.images));
    c.labels.dataSync().forEach((v, k) => {
      expect(v).toBeCloseTo(cRef.labels[k] as number, 5);
    });
  });

  it('resize + centre crop on a batch: the evaluation geometry', () => {
    // 8×8 to shorter side 8 is no resize: the centred 4×4 crop is a plain slice.
    const out = resizeAndCenterCropBatch(asBatch(images), 8, 4);
    expect(out.shape).toEqual([4, 4, 4, 3]);
    const expected = images.flatMap((im) => Array.from(crop(im, 2, 2, 4, 4).data));
    expect(Array.from(out.dataSync())).toEqual(expected);
    const wide = resizeAndCenterCropBatch(tf.zeros([1, 10, 20, 3]) as tf.Tensor4D, 5, 5);
    expect(wide.shape).toEqual([1, 5, 5, 3]);
    expect(() => resizeAndCenterCropBatch(asBatch(images), 4, 5)).toThrow(/does not fit/);
  });
});
