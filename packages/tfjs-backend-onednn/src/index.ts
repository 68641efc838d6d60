import { type BackendCapabilities, CONV_LAYOUTS, type ConvLayout } from '@resnet-ts/backends';
import { loadAddon } from './native';
import { BACKEND_NAME, NATIVE_KERNELS, registerOneDnnBackend } from './register';

registerOneDnnBackend();

export { OneDnnBackend } from './backend';
export { bufferPoolUsage, setBufferPoolLimit } from './buffer-pool';
export { addonLocation, INSTALL_HINT, unavailableReason } from './native';
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
 * the least recently used are freed. `weightCopies`: weight tensors whose convolution-layout copy
 * is kept (one per live tensor used as a filter in inference; freed with the tensor). Undefined
 * when the addon is unavailable.
 */
export function primitiveCacheUsage():
  | { entries: number; limit: number; hits: number; misses: number; weightCopies: number }
  | undefined {
  const state = loadAddon()?.primitiveCache();
  return state
    ? {
        entries: state.size,
        limit: state.limit,
        hits: state.hits,
        misses: state.misses,
        weightCopies: state.weightCopies,
      }
    : undefined;
}

/** The most primitives kept (default 2048: a ResNet-50 training step uses a few hundred). */
export function setPrimitiveCacheLimit(entries: number): void {
  if (!Number.isInteger(entries) || entries < 1 || entries > 1e9) {
    throw new Error(`entries: expected an integer from 1 to 1e9, got ${JSON.stringify(entries)}`);
  }
  loadAddon()?.primitiveCache(entries);
}

// The layout names are @resnet-ts/backends' (defined there once); their codes are the addon's
// (native/conv.hpp's ConvLayoutPolicy, exported as opCodes.convLayout).
export type { ConvLayout };

/**
 * How convolutions choose between plain NHWC and oneDNN's blocked layouts. `timed` (the default)
 * times each new shape both ways and keeps the faster: the choice can differ between two processes
 * on a busy machine, and with it the last bits of the results. `plain` or `blocked` fix it, so that
 * separate processes compute bit-identical results (a resumed training run, a reproducibility
 * check). Changing it frees the cached primitives.
 */
export function setConvLayout(layout: ConvLayout): void {
  if (!CONV_LAYOUTS.includes(layout)) {
    throw new Error(`layout: expected one of ${CONV_LAYOUTS.join(', ')}, got ${JSON.stringify(layout)}`);
  }
  const addon = loadAddon();
  addon?.convLayout(addon.opCodes.convLayout[layout]);
}

/** The convolution layout policy in force; undefined when the addon is unavailable. */
export function getConvLayout(): ConvLayout | undefined {
  const addon = loadAddon();
  const policy = addon?.convLayout();
  return CONV_LAYOUTS.find((layout) => addon?.opCodes.convLayout[layout] === policy);
}

/** Frees every cached primitive, e.g. after inference on many image sizes. */
export function clearPrimitiveCache(): void {
  loadAddon()?.clearPrimitiveCache();
}

/**
 * What this backend offers, as `@resnet-ts/backends` reads it (its `BackendCapabilities`).
 * `configureBackend` sets threads and convolution layouts through it; oneDNN computes in fp32 only.
 */
export const capabilities = {
  name: BACKEND_NAME,
  setThreads,
  getThreads,
  convLayouts: CONV_LAYOUTS,
  setConvLayout,
  precisions: ['fp32'] as readonly string[],
  /** The fused kernels registered natively (ours, `ResNet*`, and tfjs's `Fused*`), e.g. `ResNetFusedConv2D`. */
  get fusedKernels(): string[] {
    return NATIVE_KERNELS.map((k) => k.kernelName).filter((name) => /^ResNet|Fused/.test(name));
  },
  versions(): Record<string, string> {
    const version = oneDnnVersion();
    return version ? { onednn: version } : {};
  },
} satisfies BackendCapabilities;
