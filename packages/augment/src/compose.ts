import type { RgbImage } from './image';
import { type Normalization, normalizeImage } from './normalize';
import { type AugmentStep, applyStep, checkStep } from './ops';
import { sampleRandom } from './random';

export type { AugmentStep } from './ops';

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

/**
 * Builds an augmentation pipeline from a JSON-serialisable spec (the ops of `ops/index.ts`). Each
 * sample's randomness comes from (seed, epoch, index) alone, so results never depend on worker
 * count or scheduling.
 */
export function compose(spec: PipelineSpec): Pipeline {
  if (!spec || !Array.isArray(spec.steps)) throw new TypeError('spec.steps: expected an array of steps');
  spec.steps.forEach(checkStep);
  const steps = structuredClone(spec.steps);
  const normalization = spec.normalization ? structuredClone(spec.normalization) : undefined;
  return async (input, { seed, epoch, index }) => {
    const random = sampleRandom(seed, epoch, index);
    let image = input;
    for (const step of steps) image = await applyStep(image, step, random);
    return normalization ? { image, values: normalizeImage(image, normalization) } : { image };
  };
}
