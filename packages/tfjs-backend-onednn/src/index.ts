import { loadAddon } from './native';
import { registerOneDnnBackend } from './register';

registerOneDnnBackend();

export { OneDnnBackend } from './backend';
export { bufferPoolUsage, setBufferPoolLimit } from './buffer-pool';
export { INSTALL_HINT, unavailableReason } from './native';
export { BACKEND_NAME, BACKEND_PRIORITY, NATIVE_KERNELS, registerOneDnnBackend } from './register';

/** True when the native addon loaded, so `tf.setBackend('onednn')` will succeed. */
export function isOneDnnAvailable(): boolean {
  return loadAddon() !== undefined;
}

/** oneDNN's version, or undefined when the addon is unavailable. */
export function oneDnnVersion(): string | undefined {
  const v = loadAddon()?.version();
  return v ? `${v.major}.${v.minor}.${v.patch}` : undefined;
}

/** Threads oneDNN uses (default: all cores, or OMP_NUM_THREADS). */
export function setThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads: expected a positive integer, got ${JSON.stringify(threads)}`);
  }
  const addon = loadAddon();
  if (addon) addon.setNumThreads(threads);
}

export function getThreads(): number | undefined {
  return loadAddon()?.getNumThreads();
}

/**
 * oneDNN primitives (with their staging buffers) are kept per op and shape; beyond `limit` entries
 * the least recently used are freed. Undefined when the addon is unavailable.
 */
export function primitiveCacheUsage():
  | { entries: number; limit: number; hits: number; misses: number }
  | undefined {
  const state = loadAddon()?.primitiveCache();
  return state
    ? { entries: state.size, limit: state.limit, hits: state.hits, misses: state.misses }
    : undefined;
}

/** The most primitives kept (default 2048: a ResNet-50 training step uses a few hundred). */
export function setPrimitiveCacheLimit(entries: number): void {
  if (!Number.isInteger(entries) || entries < 1 || entries > 1e9) {
    throw new Error(`entries: expected an integer from 1 to 1e9, got ${JSON.stringify(entries)}`);
  }
  loadAddon()?.primitiveCache(entries);
}

/** Frees every cached primitive, e.g. after inference on many image sizes. */
export function clearPrimitiveCache(): void {
  loadAddon()?.clearPrimitiveCache();
}
