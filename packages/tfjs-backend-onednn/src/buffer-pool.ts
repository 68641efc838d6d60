import { totalmem } from 'node:os';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Recycles the output arrays of native kernels. Every training step allocates hundreds of
 * multi-megabyte arrays; left to the garbage collector they cost a full GC every few operations,
 * and every fresh array is faulted in page by page again (for ResNet-50 at batch 32 that was half
 * of the step). An array is reused only when it is certain nothing else can see it: it was
 * allocated here, its tensor's data was released, its values were never handed to user code
 * (read/readSync) and never given to a CPU kernel (which may return a view of it, as slice does).
 */
const owned = new WeakSet<Float32Array>();
const escaped = new WeakSet<Float32Array>();
/** Free arrays by length; the Map's order is least recently used first (keys are re-inserted on use). */
const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;

/**
 * Upper bound on memory kept for reuse: ONEDNN_POOL_MB, default half the machine's memory. A
 * training step releases its whole working set and asks for the same arrays again, so the pool
 * must hold a step's worth; when it is full, the arrays of the least recently used lengths go
 * to the garbage collector. 0 disables reuse.
 */
let limitBytes =
  process.env.ONEDNN_POOL_MB !== undefined && process.env.ONEDNN_POOL_MB !== ''
    ? megabytes(Number(process.env.ONEDNN_POOL_MB), 'ONEDNN_POOL_MB')
    : totalmem() / 2;

function megabytes(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name}: expected a number of MiB ≥ 0, got ${JSON.stringify(value)}`);
  }
  return value * 1024 * 1024;
}

function markUsed(length: number, list: Float32Array[]): void {
  free.delete(length);
  free.set(length, list);
}

function evictUntilWithin(limit: number): void {
  for (const [length, list] of free) {
    if (pooledBytes <= limit) return;
    while (list.length > 0 && pooledBytes > limit) {
      pooledBytes -= (list.pop() as Float32Array).byteLength;
    }
    if (list.length === 0) free.delete(length);
  }
}

/** An output array of `length` floats, uninitialised (native kernels write every element). */
export function takeBuffer(length: number): Float32Array {
  const list = free.get(length);
  const reusable = list?.pop();
  if (list && reusable) {
    pooledBytes -= reusable.byteLength;
    markUsed(length, list);
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
  if (values.byteLength > limitBytes) return;
  const list = free.get(values.length) ?? [];
  list.push(values);
  markUsed(values.length, list);
  pooledBytes += values.byteLength;
  evictUntilWithin(limitBytes);
}

/**
 * Sets how much memory (MiB) the backend keeps for reusing output arrays, dropping the least
 * recently used arrays beyond it; 0 empties the pool and turns reuse off.
 */
export function setBufferPoolLimit(megabytesLimit: number): void {
  limitBytes = megabytes(megabytesLimit, 'megabytes');
  evictUntilWithin(limitBytes);
}

/** Bytes currently held for reuse, and the limit. */
export function bufferPoolUsage(): { pooledBytes: number; limitBytes: number } {
  return { pooledBytes, limitBytes };
}

/** Whether `values` would be recycled when released (for tests). */
export function isRecyclable(values: unknown): boolean {
  return values instanceof Float32Array && owned.has(values) && !escaped.has(values);
}
