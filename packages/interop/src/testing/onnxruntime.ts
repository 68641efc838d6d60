// Helpers of the ONNX export tests: seeded inputs and batch-norm statistics, and the comparison with
// onnxruntime-node (tests that use it run in ./onnxruntime-environment.cjs).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';

/**
 * The agreement asked of every exported model: max |onnxruntime − tfjs| over all outputs, divided by
 * max |tfjs| (float32 arithmetic in a different order, batch norms folded in float64).
 */
export const TOLERANCE = 1e-4;

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BATCH_NORMS = new Set(['BatchNormalization', 'ResNetBatchNormReLU']);

/**
 * Gives every batch norm random gamma, beta, moving mean and moving variance (a freshly built one
 * is the identity, so folding it would test nothing). Returns how many there are.
 */
export function randomizeBatchNorms(model: tfl.LayersModel, seed: number): number {
  const random = seededRandom(seed);
  const uniform = (n: number, low: number, high: number) =>
    Float32Array.from({ length: n }, () => low + (high - low) * random());
  let count = 0;
  for (const layer of model.layers) {
    if (!BATCH_NORMS.has(layer.getClassName())) continue;
    const weights = layer.getWeights();
    const ranges: Record<string, [number, number]> = {
      gamma: [0.5, 1.5],
      beta: [-0.5, 0.5],
      moving_mean: [-0.5, 0.5],
      moving_variance: [0.5, 2],
    };
    const fresh = layer.weights.map((w, i) => {
      const kind = w.originalName.split('/').pop() as string;
      const [low, high] = ranges[kind] ?? [0, 1];
      const shape = (weights[i] as tf.Tensor).shape;
      return tf.tensor(
        uniform(
          shape.reduce((a, b) => a * b, 1),
          low,
          high,
        ),
        shape,
      );
    });
    layer.setWeights(fresh);
    tf.dispose(fresh);
    count++;
  }
  return count;
}

/** Gives every convolution and dense bias random values in [-0.5, 0.5) (they start at zero). */
export function randomizeBiases(model: tfl.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  for (const layer of model.layers) {
    if (BATCH_NORMS.has(layer.getClassName())) continue;
    const index = layer.weights.findIndex((w) => w.originalName.endsWith('/bias'));
    if (index < 0) continue;
    const weights = layer.getWeights();
    const bias = weights[index] as tf.Tensor;
    const fresh = tf.tensor(
      Float32Array.from({ length: bias.size }, () => random() - 0.5),
      bias.shape,
    );
    layer.setWeights(weights.map((w, i) => (i === index ? fresh : w)));
    fresh.dispose();
  }
}

/** Seeded input in [-1, 1). */
export function randomInput(shape: number[], seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * random() - 1);
}

export interface Comparison {
  /** max |onnx − tfjs| / max |tfjs|. */
  relative: number;
  absolute: number;
  shape: readonly number[];
}

/** Runs `bytes` in onnxruntime and `model.predict` on the same input; compares the first outputs. */
export async function compareWithOnnxRuntime(
  model: tfl.LayersModel,
  bytes: Uint8Array,
  inputShape: number[],
  seed: number,
): Promise<Comparison> {
  const data = randomInput(inputShape, seed);
  const expected = tf.tidy(() => {
    const out = model.predict(tf.tensor(data, inputShape));
    return (Array.isArray(out) ? out[0] : out) as tf.Tensor;
  });
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = { [session.inputNames[0] as string]: new ort.Tensor('float32', data, inputShape) };
    const result = await session.run(feeds);
    const output = result[session.outputNames[0] as string] as ort.Tensor;
    if (output.dims.join() !== expected.shape.join()) {
      throw new Error(`onnxruntime output shape [${output.dims}] differs from tfjs's [${expected.shape}]`);
    }
    const actual = output.data as Float32Array;
    const want = expected.dataSync();
    let absolute = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      absolute = Math.max(absolute, Math.abs((actual[i] as number) - (want[i] as number)));
      scale = Math.max(scale, Math.abs(want[i] as number));
    }
    if (process.env.ONNX_DIFFS) console.log(`${model.name} [${inputShape}]: relative ${absolute / scale}`);
    return { relative: absolute / scale, absolute, shape: expected.shape };
  } finally {
    expected.dispose();
    await session.release();
  }
}
