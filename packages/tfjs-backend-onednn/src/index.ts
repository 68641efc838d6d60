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
