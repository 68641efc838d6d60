// Test helpers: run the same computation on two backends and measure how far apart they are.
import * as tf from '@tensorflow/tfjs-core';
import { unavailableReason } from './native';

/** Deterministic values in [-1, 1) (mulberry32), independent of any backend's RNG. */
export function seededValues(seed: number, count: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Runs `compute` on `backend` and returns copies of its outputs' values. */
export async function valuesOn(
  backend: string,
  compute: () => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  return tf.tidy(() => {
    const out = compute();
    return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
  });
}

/** Norm-wise relative error max|a - b| / max(max|b|, 1e-6): robust where elements are near zero. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}

/** Relative error of each output of `compute` on onednn against cpu. */
export async function compareWithCpu(compute: () => tf.Tensor | tf.Tensor[]): Promise<number[]> {
  const expected = await valuesOn('cpu', compute);
  const actual = await valuesOn('onednn', compute);
  return expected.map((e, i) => relativeError(actual[i]!, e));
}

/**
 * `describe` for suites that need the native addon. Without it they are skipped with a message
 * saying why, except under CI=true, where they run (and fail) so CI never passes silently.
 */
export function describeNative(name: string, body: () => void): void {
  const reason = unavailableReason();
  if (reason && process.env.CI !== 'true') {
    describe.skip(`${name} (skipped: ${reason})`, body);
    return;
  }
  describe(name, body);
}

/** A tensor of seeded values in [-1, 1) plus `offset`. */
export function seededTensor(shape: number[], seed: number, offset = 0): tf.Tensor {
  return tf.tensor(
    seededValues(
      seed,
      shape.reduce((a, b) => a * b, 1),
    ).map((v) => v + offset),
    shape,
  );
}
