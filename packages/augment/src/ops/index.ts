// The registry of pipeline ops. Adding an op is one file in this folder (its schema, its checks and
// its apply, declared with `defineOp`) and one line below; the step type, the op names, the checks
// and the dispatch of `compose` all follow from this list.
import type { RgbImage } from '../image';
import { colorJitterOp } from './color-jitter';
import { flipOp } from './flip';
import { type AugmentOp, checkFields, type StepOfOp } from './op';
import { padCropFlipOp } from './pad-crop-flip';
import { randomErasingOp } from './random-erasing';
import { randomResizedCropOp } from './random-resized-crop';
import { resizeAndCenterCropOp } from './resize-and-center-crop';

export const AUGMENT_OPS = [
  padCropFlipOp,
  flipOp,
  randomResizedCropOp,
  resizeAndCenterCropOp,
  colorJitterOp,
  randomErasingOp,
] as const;

/** One step of a pipeline, as plain JSON (so a saved model can record how its inputs were made). */
export type AugmentStep = StepOfOp<(typeof AUGMENT_OPS)[number]>;

export type AugmentOpName = AugmentStep['op'];

const byName = new Map<unknown, AugmentOp>();
for (const op of AUGMENT_OPS as readonly AugmentOp[]) {
  if (byName.has(op.name)) throw new Error(`augment ops: ${op.name} is registered twice`);
  byName.set(op.name, op);
}

/** Throws naming `steps[i]` and the field unless `step` is a valid step of a registered op. */
export function checkStep(step: unknown, i: number): asserts step is AugmentStep {
  const where = `steps[${i}]`;
  const name = (step as { op?: unknown } | null | undefined)?.op;
  const op = step !== null && typeof step === 'object' ? byName.get(name) : undefined;
  if (!op) {
    const names = AUGMENT_OPS.map((o) => o.name).join(', ');
    throw new RangeError(`${where}.op: expected one of ${names}, got ${JSON.stringify(name)}`);
  }
  checkFields(op, step as Record<string, unknown>, where);
}

/** Applies a checked step to one image. */
export function applyStep(
  image: RgbImage,
  step: AugmentStep,
  random: () => number,
): RgbImage | Promise<RgbImage> {
  return (byName.get(step.op) as AugmentOp).apply(image, step, random);
}
