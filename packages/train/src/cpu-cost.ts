import { BackendError, type NoFastBackendError, probeFastBackend } from '@resnet-ts/backends';
import { countFlops } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import { countSourceImages } from './data/open';
import { buildModel, modelDefaults } from './models';

/** What a training epoch would cost on the pure-JS `cpu` backend, measured on this machine. */
export interface CpuTrainingCost {
  /** Seconds of one training image (forward and backward). */
  secondsPerImage: number;
  /** Training images per epoch, where they can be counted without decoding. */
  imagesPerEpoch?: number;
  secondsPerEpoch?: number;
  model: string;
  imageSize: number;
}

/**
 * FLOP/s the pure-JS cpu backend reaches on a 3x3 convolution, forward and both backward passes
 * (its three kernels, called directly): what a ResNet's training step spends nearly all its time on.
 * Runs for about `budgetMs`.
 */
export function measureCpuConvRate(budgetMs = 300): number {
  const cpu = tf.findBackend('cpu');
  if (!cpu) throw new Error('the tfjs cpu backend is not registered');
  const previous = tf.getBackend();
  tf.setBackend('cpu');
  (cpu as unknown as { firstUse?: boolean }).firstUse = false; // no "install tfjs-node" banner
  // Small, so the measurement takes about a second: tfjs's pure-JS filter gradient runs at a few
  // MFLOP/s (it dominates a training step there), and larger shapes are no faster per FLOP.
  const [batch, side, channels] = [4, 12, 16];
  const x = tf.randomNormal<tf.Rank.R4>([batch, side, side, channels], 0, 1, 'float32', 1);
  const w = tf.randomNormal<tf.Rank.R4>([3, 3, channels, channels], 0, 0.1, 'float32', 2);
  const step = (input: tf.Tensor4D, filter: tf.Tensor4D) => {
    const y = tf.conv2d(input, filter, 1, 'same');
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
    const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: y, filter }, {
      ...attrs,
      inputShape: input.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: input, dy: y }, {
      ...attrs,
      filterShape: filter.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    tf.dispose([y, dx, dw]);
  };
  try {
    tf.tidy(() => step(tf.slice(x, [0, 0, 0, 0], [1, 4, 4, channels]), w)); // set-up and JIT warm-up
    const flopsPerStep = 3 * 2 * batch * side * side * channels * channels * 9;
    let steps = 0;
    const start = performance.now();
    while (steps < 1 || performance.now() - start < budgetMs) {
      step(x, w);
      steps++;
    }
    return (flopsPerStep * steps) / ((performance.now() - start) / 1000);
  } finally {
    tf.dispose([x, w]);
    if (previous && previous !== 'cpu') tf.setBackend(previous);
  }
}

/**
 * Estimates one training epoch of `model` on the pure-JS cpu backend from the measured convolution
 * rate and the model's multiply-adds (training ≈ 3 forward passes), so the error that refuses to
 * train there can say what choosing it would cost.
 */
export async function estimateCpuTraining(request: {
  model: string;
  modelOptions?: Record<string, unknown>;
  imageSize?: number;
  data: string;
  valSplit: number;
}): Promise<CpuTrainingCost> {
  const imageSize = request.imageSize ?? modelDefaults(request.model, request.modelOptions).size;
  const rate = measureCpuConvRate();
  const model = buildModel({
    model: request.model,
    numClasses: 10,
    inputSize: [imageSize, imageSize],
    seed: 0,
    options: request.modelOptions,
  });
  const multiplyAdds = countFlops(model);
  model.dispose();
  const secondsPerImage = (3 * 2 * multiplyAdds) / rate;
  const counted = await countSourceImages(request.data).catch(() => undefined);
  const imagesPerEpoch = counted === undefined ? undefined : Math.round(counted * (1 - request.valSplit));
  return {
    secondsPerImage,
    imagesPerEpoch,
    secondsPerEpoch: imagesPerEpoch === undefined ? undefined : imagesPerEpoch * secondsPerImage,
    model: request.model,
    imageSize,
  };
}

/** "3.2 h", "14 min", "40 s": a duration as a person reads it. */
export function formatDuration(seconds: number): string {
  if (seconds >= 2 * 86_400) return `${(seconds / 86_400).toFixed(0)} days`;
  if (seconds >= 3_600) return `${(seconds / 3_600).toFixed(1)} h`;
  if (seconds >= 60) return `${(seconds / 60).toFixed(0)} min`;
  return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
}

/** The cost as one clause of an error line. */
export function describeCpuCost(cost: CpuTrainingCost): string {
  const what = `${cost.model} at ${cost.imageSize} px`;
  return cost.secondsPerEpoch !== undefined && cost.imagesPerEpoch !== undefined
    ? `about ${formatDuration(cost.secondsPerEpoch)} per epoch of ${cost.imagesPerEpoch.toLocaleString('en-US')} images (${what})`
    : `about ${formatDuration(cost.secondsPerImage * 1000)} per 1,000 images (${what})`;
}

/** What the cost estimate needs of a run's config (`TrainConfig` has it; `model` may be unknown yet). */
export interface CpuCostConfig {
  model?: string;
  modelOptions?: Record<string, unknown>;
  imageSize?: number;
  data: string;
  valSplit: number;
}

/**
 * The one-line error that refuses to train on the pure-JS cpu backend when the run did not name
 * `cpu`: what is missing and how to fix it, and what cpu would cost per epoch, measured here.
 * `missing` is what `useBackend('auto', { allowSlowCpu: false })` threw (an app that chooses the
 * backend passes it); left out, the backends are probed (`probeFastBackend`, activating none), and
 * when a fast one loads after all the error says to activate it.
 */
export async function refuseCpuTraining(
  config: CpuCostConfig,
  missing?: NoFastBackendError,
): Promise<BackendError> {
  const found = missing ?? (await probeFastBackend());
  const model = config.model;
  const cost = model ? await estimateCpuTraining({ ...config, model }).catch(() => undefined) : undefined;
  const why =
    typeof found === 'string'
      ? `the active TensorFlow.js backend is the pure-JS cpu one, though ${found} loads here: activate it before training (useBackend from @resnet-ts/backends; resnet train does for --backend)`
      : found.message;
  return new BackendError(
    `${why}. The pure-JS cpu backend would take ${cost ? describeCpuCost(cost) : 'far longer (its cost could not be measured)'}; choose backend cpu (--backend cpu) to train on it anyway`,
  );
}
