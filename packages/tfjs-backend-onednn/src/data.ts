import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** The Float32Array a tensor's data lives in (no copy), or undefined for other dtypes/storage. */
export function float32Of(backend: MathBackendCPU, tensor: TensorInfo): Float32Array | undefined {
  if (tensor.dtype !== 'float32') return undefined;
  const values = backend.data.get(tensor.dataId).values;
  return values instanceof Float32Array ? values : undefined;
}

/**
 * A number for each tensor's data, which never changes while it exists (tfjs tensors are
 * immutable; a variable's assign gives it new data): the addon keeps a convolution's weights in
 * the layout its primitive wants, per such number, so a model's weights are reordered on its
 * first inference instead of on every call. The backend tells the addon to drop them when the
 * data is disposed of (`releaseDataVersion`).
 */
const dataVersions = new WeakMap<object, number>();
let nextDataVersion = 1;

export function dataVersion(tensor: TensorInfo): number {
  let version = dataVersions.get(tensor.dataId);
  if (version === undefined) {
    version = nextDataVersion++;
    dataVersions.set(tensor.dataId, version);
  }
  return version;
}

/** The version given to `dataId`'s data, forgotten here; undefined if it never had one. */
export function releaseDataVersion(dataId: object): number | undefined {
  const version = dataVersions.get(dataId);
  if (version !== undefined) dataVersions.delete(dataId);
  return version;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** An uninitialised (or recycled) Float32Array for a native kernel's output. */
export { takeBuffer as outputArray } from './buffer-pool';
