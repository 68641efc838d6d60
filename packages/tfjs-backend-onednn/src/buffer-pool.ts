import { totalmem } from 'node:os';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Recycles the output arrays of native kernels. Every training step allocates hundreds of
 * multi-megabyte arrays; left to the garbage collector they cost a full GC every few operations.
 * An array is reused only when it is certain nothing else can see it: it was allocated here, its
 * tensor's data was released, its values were never handed to user code (read/readSync) and never
 * given to a CPU kernel (which may return a view of it, as slice does).
 */
const owned = new WeakSet<Float32Array>();
const escaped = new WeakSet<Float32Array>();
const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;
/**
 * Upper bound on memory kept for reuse: ONEDNN_POOL_MB, default an eighth of the machine's memory
 * (at least 512 MiB; ResNet-50's activations at batch 32 are ~100 MB each). 0 disables reuse.
 */
const MAX_POOLED_BYTES =
  process.env.ONEDNN_POOL_MB !== undefined
    ? Number(process.env.ONEDNN_POOL_MB) * 1024 * 1024
    : Math.max(512 * 1024 * 1024, totalmem() / 8);

/** An output array of `length` floats, uninitialised (native kernels write every element). */
export function takeBuffer(length: number): Float32Array {
  const reusable = free.get(length)?.pop();
  if (reusable) {
    pooledBytes -= reusable.byteLength;
    return reusable;
  }
  const bytes = Buffer.allocUnsafeSlow(length * Float32Array.BYTES_PER_ELEMENT);
  const array = new Float32Array(bytes.buffer, bytes.byteOffset, length);
  if (length > 0) owned.add(array);
  return array;
}

/** Marks values as visible outside the backend's own kernels: never recycled. */
export function markEscaped(values: unknown): void {
  if (values instanceof Float32Array && owned.has(values)) escaped.add(values);
}

/** Marks the inputs of a kernel call (a CPU kernel may alias them). */
export function markInputsEscaped(
  inputs: Record<string, TensorInfo | undefined>,
  valuesOf: (t: TensorInfo) => unknown,
) {
  for (const input of Object.values(inputs)) if (input) markEscaped(valuesOf(input));
}

/** Called when a tensor's data is released: keeps its array for reuse if that is safe. */
export function release(values: unknown): void {
  if (!(values instanceof Float32Array) || !owned.has(values) || escaped.has(values)) return;
  if (pooledBytes + values.byteLength > MAX_POOLED_BYTES) return;
  let list = free.get(values.length);
  if (!list) {
    list = [];
    free.set(values.length, list);
  }
  list.push(values);
  pooledBytes += values.byteLength;
}

/** Whether `values` would be recycled when released (for tests). */
export function isRecyclable(values: unknown): boolean {
  return values instanceof Float32Array && owned.has(values) && !escaped.has(values);
}
