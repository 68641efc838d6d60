import type { RgbImage } from '../image';

/**
 * One field of a pipeline step: whether it may be left out, what a valid value is (the words that
 * errors and the README use), and how to check it. `T` is the field's type in `AugmentStep`.
 */
export interface Field<T = unknown, Optional extends boolean = boolean> {
  readonly optional: Optional;
  /** What a valid value is: `steps[1].size: expected ${expected}, got 0`. */
  readonly expected: string;
  /** What the field does, for the README. */
  readonly doc: string;
  /** The default when left out, as the README shows it. */
  readonly default?: string;
  /** Checked when `compose` builds a pipeline; a field without it is taken as given. */
  readonly valid?: (value: unknown) => boolean;
  /** Carries `T` for the type checker only; never set. */
  readonly type?: T;
}

/** A field that every step of its op must have. */
export function required<T>(
  expected: string,
  valid: (value: unknown) => boolean,
  doc: string,
): Field<T, false> {
  return { optional: false, expected, valid, doc };
}

/** A field that may be left out (then `fallback` applies, as the op documents it). */
export function optional<T>(
  expected: string,
  valid: ((value: unknown) => boolean) | undefined,
  doc: string,
  fallback?: string,
): Field<T, true> {
  return { optional: true, expected, valid, doc, default: fallback };
}

export type Fields = Readonly<Record<string, Field>>;

type TypeOf<F> = F extends Field<infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The options object a schema describes: required fields as such, the others optional. */
export type OptionsOf<F extends Fields> = Simplify<
  { [K in keyof F as F[K] extends Field<unknown, false> ? K : never]: TypeOf<F[K]> } & {
    [K in keyof F as F[K] extends Field<unknown, false> ? never : K]?: TypeOf<F[K]>;
  }
>;

/** One step of a pipeline for the op `Name`, as plain JSON. */
export type StepOf<Name extends string, F extends Fields> = Simplify<{ op: Name } & OptionsOf<F>>;

/** An augmentation op: its name in a step, its schema and what it does to one image. */
export interface AugmentOp<Name extends string = string, F extends Fields = Fields> {
  readonly name: Name;
  /** One line for the README's table. */
  readonly summary: string;
  readonly fields: F;
  /**
   * Applies a checked step to one image, drawing from `random` (the sample's (seed, epoch, index)
   * stream, shared in order by every step of the pipeline).
   */
  apply(image: RgbImage, step: StepOf<Name, F>, random: () => number): RgbImage | Promise<RgbImage>;
}

/** Declares an op; the registry (`ops/index.ts`) lists it. */
export function defineOp<const Name extends string, const F extends Fields>(
  op: AugmentOp<Name, F>,
): AugmentOp<Name, F> {
  return op;
}

/** The step type of one op. */
export type StepOfOp<O> = O extends AugmentOp<infer Name, infer F> ? StepOf<Name, F> : never;

const show = (value: unknown) => (typeof value === 'number' ? String(value) : JSON.stringify(value));

/** Throws naming the step and field when `step` does not fit `op`'s schema. */
export function checkFields(op: AugmentOp, step: Readonly<Record<string, unknown>>, where: string): void {
  for (const [name, field] of Object.entries(op.fields)) {
    const value = step[name];
    const ok = value === undefined ? field.optional : (field.valid?.(value) ?? true);
    if (!ok) throw new RangeError(`${where}.${name}: expected ${field.expected}, got ${show(value)}`);
  }
}
