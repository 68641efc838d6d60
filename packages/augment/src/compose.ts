import { type ColorJitterOptions, colorJitter, type RandomErasingOptions, randomErasing } from './color';
import type { RgbImage } from './image';
import { type Normalization, normalizeImage } from './normalize';
import { flipHorizontal, flipVertical, padCropFlip } from './ops';
import { sampleRandom } from './random';
import { type RandomResizedCropOptions, randomResizedCrop, resizeAndCenterCrop } from './resize';

/** One step of a pipeline, as plain JSON (so a saved model can record how its inputs were made). */
export type AugmentStep =
  | { op: 'padCropFlip'; padding: number }
  | { op: 'flip'; horizontal?: number; vertical?: number }
  | ({ op: 'randomResizedCrop'; size: number } & RandomResizedCropOptions)
  | { op: 'resizeAndCenterCrop'; shorter: number; size: number }
  | ({ op: 'colorJitter' } & ColorJitterOptions)
  | ({ op: 'randomErasing' } & RandomErasingOptions);

export interface PipelineSpec {
  steps: AugmentStep[];
  /** Applied last; the pipeline then returns float32 HWC values. Default: none (uint8 image out). */
  normalization?: Normalization;
}

/** Where a sample sits: its randomness derives from these only. */
export interface SampleKey {
  seed: number;
  epoch: number;
  index: number;
}

export type Pipeline = (
  image: RgbImage,
  key: SampleKey,
) => Promise<{ image: RgbImage; values?: Float32Array }>;

const OPS = [
  'padCropFlip',
  'flip',
  'randomResizedCrop',
  'resizeAndCenterCrop',
  'colorJitter',
  'randomErasing',
];

function checkStep(step: AugmentStep, i: number): void {
  const where = `steps[${i}]`;
  if (step === null || typeof step !== 'object' || !OPS.includes(step.op)) {
    throw new RangeError(`${where}.op: expected one of ${OPS.join(', ')}, got ${JSON.stringify(step?.op)}`);
  }
  const positive = (field: string, value: unknown) => {
    if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
      throw new RangeError(`${where}.${field}: expected a positive integer, got ${JSON.stringify(value)}`);
    }
  };
  if (step.op === 'padCropFlip' && !(Number.isInteger(step.padding) && step.padding >= 0)) {
    throw new RangeError(
      `${where}.padding: expected a non-negative integer, got ${JSON.stringify(step.padding)}`,
    );
  }
  if (step.op === 'randomResizedCrop') positive('size', step.size);
  if (step.op === 'resizeAndCenterCrop') {
    positive('shorter', step.shorter);
    positive('size', step.size);
  }
  if (step.op === 'flip') {
    for (const field of ['horizontal', 'vertical'] as const) {
      const p = step[field];
      if (p !== undefined && !(p >= 0 && p <= 1))
        throw new RangeError(`${where}.${field}: expected a probability 0–1, got ${p}`);
    }
  }
}

/**
 * Builds an augmentation pipeline from a JSON-serialisable spec. Each sample's randomness comes from
 * (seed, epoch, index) alone, so results never depend on worker count or scheduling.
 */
export function compose(spec: PipelineSpec): Pipeline {
  if (!spec || !Array.isArray(spec.steps)) throw new TypeError('spec.steps: expected an array of steps');
  spec.steps.forEach(checkStep);
  const steps = structuredClone(spec.steps);
  const normalization = spec.normalization ? structuredClone(spec.normalization) : undefined;
  return async (input, { seed, epoch, index }) => {
    const random = sampleRandom(seed, epoch, index);
    let image = input;
    for (const step of steps) {
      switch (step.op) {
        case 'padCropFlip':
          image = padCropFlip(image, step.padding, random);
          break;
        case 'flip':
          if (random() < (step.horizontal ?? 0.5)) image = flipHorizontal(image);
          if (random() < (step.vertical ?? 0)) image = flipVertical(image);
          break;
        case 'randomResizedCrop':
          image = await randomResizedCrop(image, step.size, random, step);
          break;
        case 'resizeAndCenterCrop':
          image = await resizeAndCenterCrop(image, step.shorter, step.size);
          break;
        case 'colorJitter':
          image = colorJitter(image, step, random);
          break;
        case 'randomErasing':
          image = randomErasing(image, random, step);
          break;
      }
    }
    return normalization ? { image, values: normalizeImage(image, normalization) } : { image };
  };
}
