import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { inferScores } from './evaluate';

beforeAll(() => tf.setBackend('cpu'));

/** A model whose logits depend on where things are in the image, so mirroring changes them. */
function positionalModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 3, 1] });
  const flat = tfl.layers.flatten().apply(input);
  const logits = tfl.layers
    .dense({ units: 4, kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) })
    .apply(flat) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits });
}

describe('inferScores', () => {
  const model = positionalModel();
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, -1, 0, 2, 1, 0, 3], [2, 2, 3, 1]);

  it('returns the logits as they are without test-time augmentation', () => {
    const { scores, kind } = inferScores(model, x, 'logits');
    expect(kind).toBe('logits');
    expect(Array.from(scores)).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });

  it('with flip, averages the probabilities of each image and its mirror image', () => {
    const { scores, kind } = inferScores(model, x, 'logits', 'flip');
    expect(kind).toBe('probabilities');
    const expected = tf.tidy(() =>
      tf
        .div(
          tf.add(
            tf.softmax(model.predict(x) as tf.Tensor),
            tf.softmax(model.predict(tf.reverse(x, 2)) as tf.Tensor),
          ),
          2,
        )
        .dataSync(),
    );
    for (const [i, v] of Array.from(expected).entries()) expect(scores[i]).toBeCloseTo(v, 6);
    const plain = tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor).dataSync());
    expect(Array.from(scores)).not.toEqual(Array.from(plain));
  });

  it('changes nothing for mirror-symmetric images', () => {
    const symmetric = tf.tensor4d([1, 2, 1, 4, 0, 4], [1, 2, 3, 1]);
    const plain = tf.tidy(() => tf.softmax(model.predict(symmetric) as tf.Tensor).dataSync());
    const { scores } = inferScores(model, symmetric, 'logits', 'flip');
    for (const [i, v] of Array.from(plain).entries()) expect(scores[i]).toBeCloseTo(v, 6);
  });

  it('names a test-time augmentation it does not know', () => {
    expect(() => inferScores(model, x, 'logits', 'crop10' as 'flip')).toThrow(
      'tta: expected none or flip, got "crop10"',
    );
  });
});
