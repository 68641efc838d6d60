import { type AugmentStep, IMAGENET_PER_CHANNEL, type Normalization } from '@resnet-ts/augment';
import type { Preprocessing } from './assemble';
import { ConfigError, type TrainConfig } from './config';
import type { ImageDataset } from './data/dataset';
import type { OpenOptions } from './data/open';

/** Default input side for datasets of large images (ImageNet practice). */
export const DEFAULT_LARGE_SIZE = 224;

/** The training set's mean image over `indices` (He et al.'s per-pixel mean). */
export function perPixelMean(dataset: ImageDataset, indices: Int32Array): Normalization {
  if (dataset.kind !== 'memory') {
    throw new ConfigError(
      'normalization: per-pixel-mean needs equally sized images decoded in memory; use imagenet for large images',
    );
  }
  const size = dataset.height * dataset.width * 3;
  const sums = new Float64Array(size);
  for (const i of indices) {
    const image = dataset.images.subarray(i * size, (i + 1) * size);
    for (let p = 0; p < size; p++) sums[p] = (sums[p] as number) + (image[p] as number);
  }
  const n = Math.max(1, indices.length);
  // Rounded to 4 decimals: the spec is stored as JSON beside the model.
  const mean = Array.from(sums, (s) => Math.round((s / n) * 1e4) / 1e4);
  return { mode: 'per-pixel-mean', width: dataset.width, height: dataset.height, mean };
}

/** Augmentation and normalisation for a run, from its config and its training data. */
export function resolvePreprocessing(
  config: TrainConfig,
  dataset: ImageDataset,
  trainIndices: Int32Array,
): Preprocessing {
  const small = dataset.kind === 'memory';
  const side = small ? dataset.height : (config.imageSize ?? DEFAULT_LARGE_SIZE);
  const inputSize: [number, number] = small ? [dataset.height, dataset.width] : [side, side];
  const mode = config.normalization ?? (small ? 'per-pixel-mean' : 'imagenet');
  const normalization: Normalization =
    mode === 'per-pixel-mean'
      ? perPixelMean(dataset, trainIndices)
      : mode === 'imagenet'
        ? IMAGENET_PER_CHANNEL
        : { mode };
  return standardPreprocessing(normalization, inputSize, small, config.augment);
}

/**
 * The standard pipelines for a network input: small images (CIFAR-style, decoded at their size) are
 * not resized, and train with pad + crop + flip; large ones are resized to 1/0.875 of the side and
 * centre-cropped for evaluation, and train with random resized crops and flips.
 */
export function standardPreprocessing(
  normalization: Normalization,
  inputSize: [number, number],
  small: boolean,
  augment: TrainConfig['augment'],
): Preprocessing {
  const side = inputSize[0];
  const evalSteps: AugmentStep[] = small
    ? []
    : [{ op: 'resizeAndCenterCrop', shorter: Math.round(side / 0.875), size: side }];
  let trainSteps: AugmentStep[];
  if (typeof augment === 'object') trainSteps = augment.steps;
  else if (augment === 'standard') {
    trainSteps = small
      ? [{ op: 'padCropFlip', padding: Math.max(1, Math.round(side / 8)) }]
      : [{ op: 'randomResizedCrop', size: side }, { op: 'flip' }];
  } else if (augment === 'flip') trainSteps = [...evalSteps, { op: 'flip' }];
  else trainSteps = evalSteps;
  return {
    train: { steps: trainSteps, normalization },
    eval: { steps: evalSteps, normalization },
    inputSize,
  };
}

/**
 * How a run's data is opened again (resume, eval) so that it reaches the model as in training. A
 * run with no evaluation resize step trained on images decoded in memory at its input size: its
 * data is decoded that way again — also runs made before archives of large images stayed files, or
 * before cifar10 honoured imageSize (its saved input size then differs from imageSize).
 */
export function reopenOptions(
  preprocessing: Preprocessing,
  imageSize: number | undefined,
): Pick<OpenOptions, 'imageSize' | 'inMemory'> {
  if (preprocessing.eval.steps.length > 0) return { imageSize };
  const [height, width] = preprocessing.inputSize;
  return { inMemory: true, imageSize: height === imageSize && width === imageSize ? imageSize : undefined };
}
