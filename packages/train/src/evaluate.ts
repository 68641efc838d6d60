import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Preprocessing } from './assemble';
import { ConfigError } from './config';
import type { BatchLoader } from './loader';
import { toBatches } from './loader';
import { ClassificationMetrics } from './metrics';

export type ScoreKind = 'logits' | 'probabilities';
/** Test-time augmentation: none, or the mean probabilities of each image and its mirror image. */
export type TestTimeAugmentation = 'none' | 'flip';

/**
 * A batch's class scores in inference mode. With `tta: 'flip'` they are the mean of the softmax
 * probabilities of the batch and of its horizontal mirror, so the kind becomes 'probabilities'.
 */
export function inferScores(
  model: tfl.LayersModel,
  input: tf.Tensor4D,
  kind: ScoreKind,
  tta: TestTimeAugmentation = 'none',
): { scores: Float32Array; kind: ScoreKind } {
  if (tta !== 'none' && tta !== 'flip') {
    throw new ConfigError(`tta: expected none or flip, got ${JSON.stringify(tta)}`);
  }
  return tf.tidy(() => {
    const run = (x: tf.Tensor4D) => model.apply(x, { training: false }) as tf.Tensor;
    if (tta === 'none') return { scores: run(input).dataSync() as Float32Array, kind };
    const probabilities = (x: tf.Tensor4D) => (kind === 'logits' ? tf.softmax(run(x)) : run(x));
    const mean = tf.div(tf.add(probabilities(input), probabilities(tf.reverse(input, 2))), 2);
    return { scores: mean.dataSync() as Float32Array, kind: 'probabilities' as const };
  });
}

/** Summed cross-entropy of a batch of scores against integer labels (no smoothing). */
export function crossEntropySum(
  scores: Float32Array,
  labels: ArrayLike<number>,
  numClasses: number,
  kind: ScoreKind,
): number {
  let sum = 0;
  for (let n = 0; n < labels.length; n++) {
    const row = scores.subarray(n * numClasses, (n + 1) * numClasses);
    const target = row[labels[n] as number] as number;
    if (kind === 'probabilities') {
      sum -= Math.log(Math.max(target, 1e-7));
      continue;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (const v of row) max = Math.max(max, v);
    let total = 0;
    for (const v of row) total += Math.exp(v - max);
    sum += max + Math.log(total) - target;
  }
  return sum;
}

export interface EvaluationResult {
  metrics: ClassificationMetrics;
  /** Predicted class per evaluated sample, in `indices` order. */
  predictions: Int32Array;
  /** The probability (or logit) of each prediction. */
  confidence: Float32Array;
}

/** Runs `model` in inference mode over `indices` of a dataset through `loader`'s eval pipeline. */
export async function evaluate(
  model: tfl.LayersModel,
  loader: BatchLoader,
  preprocessing: Preprocessing,
  labels: Int32Array,
  indices: Int32Array,
  options: {
    batchSize: number;
    numClasses: number;
    scores: ScoreKind;
    seed?: number;
    tta?: TestTimeAugmentation;
  },
): Promise<EvaluationResult> {
  const { numClasses } = options;
  const [height, width] = preprocessing.inputSize;
  const metrics = new ClassificationMetrics(numClasses);
  const predictions = new Int32Array(indices.length);
  const confidence = new Float32Array(indices.length);
  const batches = toBatches(indices, options.batchSize);
  let offset = 0;
  let b = 0;
  for await (const { x } of loader.batches(batches, 'eval', options.seed ?? 0, 0)) {
    const batch = batches[b++] as Int32Array;
    const batchLabels = Int32Array.from(batch, (i) => labels[i] as number);
    const input = tf.tensor4d(x, [batch.length, height, width, 3]);
    const { scores, kind } = inferScores(model, input, options.scores, options.tta);
    input.dispose();
    const predicted = metrics.add(
      scores,
      batchLabels,
      crossEntropySum(scores, batchLabels, numClasses, kind),
    );
    predicted.forEach((p, k) => {
      predictions[offset + k] = p;
      confidence[offset + k] = scores[k * numClasses + p] as number;
    });
    offset += batch.length;
  }
  return { metrics, predictions, confidence };
}
