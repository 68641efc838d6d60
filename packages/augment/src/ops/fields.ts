import { type Field, optional, required } from './op';

// Field kinds that several ops share. Each check is the one the op applies, so `compose` accepts
// exactly the steps that the op itself would.

export const positiveInteger = (doc: string): Field<number, false> =>
  required('a positive integer', (v) => typeof v === 'number' && Number.isInteger(v) && v > 0, doc);

export const nonNegativeInteger = (doc: string): Field<number, false> =>
  required('a non-negative integer', (v) => Number.isInteger(v) && (v as number) >= 0, doc);

export const probability = (doc: string, fallback: string): Field<number, true> =>
  optional('a probability 0–1', (v) => (v as number) >= 0 && (v as number) <= 1, doc, fallback);

/** A jitter amount `a`: factors are drawn from [1 - a, 1 + a]. */
export const amount = (doc: string): Field<number, true> =>
  optional('a non-negative amount', (v) => (v as number) >= 0, doc, '0');
