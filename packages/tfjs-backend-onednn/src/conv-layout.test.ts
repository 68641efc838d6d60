import * as tf from '@tensorflow/tfjs-core';
import { clearPrimitiveCache, getConvLayout, setConvLayout } from './index';
import { compareWithCpu, describeNative, seededTensor } from './testing';

describeNative('convolution layout policy', () => {
  afterEach(() => setConvLayout('timed'));

  /** The stride-2 'valid' backward-data convolution whose timed layout choice was seen to vary. */
  const gradients = () => {
    const x = seededTensor([2, 18, 18, 16], 1) as tf.Tensor4D;
    const w = seededTensor([3, 3, 16, 16], 2) as tf.Tensor4D;
    const dy = seededTensor([2, 8, 8, 16], 3);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid'), dy)),
    )([x, w]);
    return [tf.conv2d(x, w, 2, 'valid'), dx as tf.Tensor, dw as tf.Tensor];
  };

  it('is timed by default; plain and blocked agree with the cpu backend, forward and gradients', async () => {
    expect(getConvLayout()).toBe('timed');
    for (const layout of ['plain', 'blocked'] as const) {
      setConvLayout(layout);
      expect(getConvLayout()).toBe(layout);
      for (const error of await compareWithCpu(gradients)) expect(error).toBeLessThan(1e-5);
    }
  });

  it('a fixed layout gives the same bits every time its primitives are made afresh', async () => {
    const bits = async () => {
      clearPrimitiveCache();
      const outputs = tf.tidy(gradients);
      const values = await Promise.all(outputs.map((t) => t.data()));
      tf.dispose(outputs);
      return values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
    };
    for (const layout of ['plain', 'blocked'] as const) {
      setConvLayout(layout);
      const first = await bits();
      for (let n = 0; n < 5; n++) expect(await bits()).toEqual(first);
    }
  });

  it('refuses an unknown layout, naming the choices', () => {
    expect(() => setConvLayout('nchw' as 'plain')).toThrow(
      'layout: expected one of plain, blocked, timed, got "nchw"',
    );
  });
});
