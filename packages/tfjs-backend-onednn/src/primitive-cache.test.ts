import * as tf from '@tensorflow/tfjs-core';
import { clearPrimitiveCache, primitiveCacheUsage, setPrimitiveCacheLimit } from './index';
import { compareWithCpu, describeNative, seededTensor } from './testing';

describeNative('primitive cache', () => {
  const conv = (size: number) => () =>
    tf.conv2d(
      seededTensor([1, size, size, 3], size) as tf.Tensor4D,
      seededTensor([3, 3, 3, 4], 99) as tf.Tensor4D,
      1,
      'same',
    );

  it('keeps at most its limit of entries, least recently used out, with results unchanged', async () => {
    const before = primitiveCacheUsage()!.limit;
    try {
      clearPrimitiveCache();
      expect(primitiveCacheUsage()).toEqual({ entries: 0, limit: before });
      setPrimitiveCacheLimit(3);
      for (const size of [5, 6, 7, 8, 9]) {
        const [error] = await compareWithCpu(conv(size));
        expect(error).toBeLessThan(1e-5);
        expect(primitiveCacheUsage()!.entries).toBeLessThanOrEqual(3);
      }
      // The evicted shape is made again, and still agrees.
      const [again] = await compareWithCpu(conv(5));
      expect(again).toBeLessThan(1e-5);
      expect(primitiveCacheUsage()).toEqual({ entries: 3, limit: 3 });
    } finally {
      setPrimitiveCacheLimit(before);
    }
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => setPrimitiveCacheLimit(0)).toThrow('entries: expected a positive integer, got 0');
    expect(() => setPrimitiveCacheLimit(2.5)).toThrow('entries: expected a positive integer, got 2.5');
  });
});
