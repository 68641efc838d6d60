import * as tf from '@tensorflow/tfjs-core';
import { clearPrimitiveCache, primitiveCacheUsage, setPrimitiveCacheLimit } from './index';
import { compareWithCpu, describeNative, seededTensor } from './testing';

describeNative('primitive cache', () => {
  /** A convolution of a `size`×`size` image: one cache entry per size. */
  const conv = (size: number) => () =>
    tf.conv2d(
      seededTensor([1, size, size, 3], size) as tf.Tensor4D,
      seededTensor([3, 3, 3, 4], 99) as tf.Tensor4D,
      1,
      'same',
    );
  const misses = () => primitiveCacheUsage()!.misses;

  it('keeps at most its limit, evicting the least recently used, with results unchanged', async () => {
    const before = primitiveCacheUsage()!.limit;
    try {
      clearPrimitiveCache();
      expect(primitiveCacheUsage()).toMatchObject({ entries: 0, limit: before });
      setPrimitiveCacheLimit(3);
      for (const size of [5, 6, 7]) expect((await compareWithCpu(conv(size)))[0]).toBeLessThan(1e-5);
      await compareWithCpu(conv(5)); // 5 is now the most recently used, 6 the least
      let missed = misses();
      await compareWithCpu(conv(8)); // a new entry: evicts 6
      expect(misses()).toBe(missed + 1);
      missed = misses();
      await compareWithCpu(conv(5)); // still cached (first-in-first-out would have evicted it)
      expect(misses()).toBe(missed);
      const [again] = await compareWithCpu(conv(6)); // evicted: made again, still agrees
      expect(misses()).toBe(missed + 1);
      expect(again).toBeLessThan(1e-5);
      expect(primitiveCacheUsage()).toMatchObject({ entries: 3, limit: 3 });
    } finally {
      setPrimitiveCacheLimit(before);
    }
  });

  it('keeps one reordered copy of each filter tensor, reused by every layer, freed with the tensor', async () => {
    await tf.setBackend('onednn');
    clearPrimitiveCache();
    const x = seededTensor([2, 8, 8, 16], 1) as tf.Tensor4D;
    const filters = [2, 3].map((seed) => seededTensor([3, 3, 16, 16], seed) as tf.Tensor4D);
    // Two layers of the same shape share one primitive; each keeps its own weights.
    const run = () => tf.tidy(() => filters.map((w) => tf.conv2d(x, w, 1, 'same').dataSync()));
    const first = run();
    expect(primitiveCacheUsage()!.weightCopies).toBe(2);
    const second = run();
    expect(primitiveCacheUsage()!.weightCopies).toBe(2);
    expect(second).toEqual(first);
    tf.dispose(filters);
    expect(primitiveCacheUsage()!.weightCopies).toBe(0);
    x.dispose();
  });

  it('refuses a limit that is not an integer from 1 to 1e9', () => {
    expect(() => setPrimitiveCacheLimit(0)).toThrow('entries: expected an integer from 1 to 1e9, got 0');
    expect(() => setPrimitiveCacheLimit(2.5)).toThrow('entries: expected an integer from 1 to 1e9, got 2.5');
    expect(() => setPrimitiveCacheLimit(1e20)).toThrow(
      'entries: expected an integer from 1 to 1e9, got 100000000000000000000',
    );
  });
});
