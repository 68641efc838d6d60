import * as tf from '@tensorflow/tfjs-core';
import './index';
import { bufferPoolUsage, isRecyclable, release, setBufferPoolLimit, takeBuffer } from './buffer-pool';
import { describeNative, seededTensor } from './testing';

type Store = { data: { get(id: object): { values: Float32Array } } };
const valuesOf = (x: tf.Tensor) => (tf.backend() as unknown as Store).data.get(x.dataId).values;
const t = seededTensor;

describeNative('output buffer recycling', () => {
  beforeAll(async () => {
    await tf.setBackend('onednn');
  });

  it('reuses the array of a released native output', () => {
    const first = tf.relu(t([64, 64], 1));
    const values = (
      tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }
    ).data.get(first.dataId).values;
    first.dispose();
    const second = tf.relu(t([64, 64], 2));
    const reused = (
      tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }
    ).data.get(second.dataId).values;
    expect(reused).toBe(values);
    second.dispose();
  });

  it('never recycles values that user code has read', () => {
    const a = tf.relu(t([128, 128], 3));
    const seen = a.dataSync();
    const copy = Float32Array.from(seen);
    a.dispose();
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.relu(t([128, 128], 10 + i)).dataSync());
    expect(Array.from(seen)).toEqual(Array.from(copy));
  });

  it('never recycles values a cpu kernel may have viewed (contiguous slices are views)', () => {
    const a = tf.relu(t([4, 256], 4));
    const values = valuesOf(a);
    expect(isRecyclable(values)).toBe(true);
    const parts = tf.unstack(a); // the cpu Unpack kernel returns subarray views of a's array
    expect(isRecyclable(values)).toBe(false);
    tf.dispose([a, ...parts]);
  });

  it('a whole-tensor slice shares the data, which is recycled only when both are released', () => {
    const a = tf.relu(t([4, 256], 5));
    const values = valuesOf(a);
    const whole = tf.slice(a, [0, 0], [4, 256]);
    expect(valuesOf(whole)).toBe(values);
    const copy = Float32Array.from(values);
    a.dispose();
    // a's array must not be handed out while `whole` still reads it.
    const others = [0, 1, 2].map((i) => tf.relu(t([4, 256], 20 + i)));
    expect(others.map(valuesOf)).not.toContain(values);
    expect(Array.from(whole.dataSync())).toEqual(Array.from(copy));
    tf.dispose([whole, ...others]);
  });

  it('keeps casts to the same dtype recyclable, but not casts to complex64 (which share the array)', () => {
    const a = tf.relu(t([4, 256], 6));
    tf.cast(a, 'float32').dispose();
    expect(isRecyclable(valuesOf(a))).toBe(true);
    tf.cast(a, 'complex64').dispose();
    expect(isRecyclable(valuesOf(a))).toBe(false);
    a.dispose();
  });

  it('never recycles values read by user code', () => {
    const a = tf.relu(t([4, 256], 5));
    a.dataSync();
    expect(isRecyclable(valuesOf(a))).toBe(false);
    a.dispose();
  });

  it('keeps results identical across repeated training-like loops', () => {
    const run = () =>
      tf.tidy(() => {
        const x = t([8, 6, 6, 4], 5);
        const w = t([3, 3, 4, 4], 6);
        const f = (a: tf.Tensor) =>
          tf.sum(tf.square(tf.relu(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'))));
        return Array.from(tf.grad(f)(x).dataSync());
      });
    const first = run();
    for (let i = 0; i < 3; i++) expect(run()).toEqual(first);
  });

  it('drops the least recently used lengths when the pool is over its limit', () => {
    const before = bufferPoolUsage().limitBytes / (1024 * 1024);
    try {
      setBufferPoolLimit(0);
      expect(bufferPoolUsage().pooledBytes).toBe(0);
      setBufferPoolLimit(1); // 1 MiB: room for two 128 Ki-float (512 KiB) arrays
      const lengths = [128 * 1024, 128 * 1024 - 1, 128 * 1024 - 2];
      const arrays = lengths.map((length) => takeBuffer(length));
      for (const array of arrays) release(array);
      expect(bufferPoolUsage().pooledBytes).toBe(2 * 128 * 1024 * 4 - 12);
      // the least recently released length was dropped; the two most recent come back
      expect(takeBuffer(lengths[0] as number)).not.toBe(arrays[0]);
      expect(takeBuffer(lengths[1] as number)).toBe(arrays[1]);
      expect(takeBuffer(lengths[2] as number)).toBe(arrays[2]);
      expect(() => setBufferPoolLimit(-1)).toThrow('megabytes: expected a number of MiB ≥ 0, got -1');
    } finally {
      setBufferPoolLimit(before);
    }
  });
});
