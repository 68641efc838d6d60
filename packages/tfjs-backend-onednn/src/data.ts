import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** The Float32Array a tensor's data lives in (no copy), or undefined for other dtypes/storage. */
export function float32Of(backend: MathBackendCPU, tensor: TensorInfo): Float32Array | undefined {
  if (tensor.dtype !== 'float32') return undefined;
  const values = backend.data.get(tensor.dataId).values;
  return values instanceof Float32Array ? values : undefined;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** An uninitialised (or recycled) Float32Array for a native kernel's output. */
export { takeBuffer as outputArray } from './buffer-pool';
