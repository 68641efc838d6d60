import type { BackendCapabilities } from '@resnet-ts/backends';
import { engine } from '@tensorflow/tfjs-core';
import type { AllocatorStats } from './allocator';
import type { CudaBackend } from './backend';
import { deviceInit, loadAddon } from './native';
import { getPrecision, PRECISIONS, setPrecision } from './precision';
import { BACKEND_NAME, NATIVE_KERNELS, registerCudaBackend } from './register';

registerCudaBackend();

export { type AllocatorStats, CachingAllocator, type RawDevice, sizeClass } from './allocator';
export { CudaBackend } from './backend';
export { cpuFallbackCounts, cpuFallbackKernels, setFallbackWarning } from './fallback';
export { INSTALL_HINT, unavailableReason } from './native';
export {
  getMatmulEngine,
  getPrecision,
  type MatmulEngine,
  PRECISIONS,
  type Precision,
  setMatmulEngine,
  setPrecision,
} from './precision';
export { BACKEND_NAME, BACKEND_PRIORITY, NATIVE_KERNELS, registerCudaBackend } from './register';
export { type KernelCheck, type SelfTestOptions, selfTest } from './self-test';

/** True when the addon loaded and found a GPU, so `tf.setBackend('cuda')` will succeed. */
export function isCudaAvailable(): boolean {
  return loadAddon() !== undefined;
}

export interface DeviceInfo {
  name: string;
  computeCapability: string;
  memoryBytes: number;
  multiprocessors: number;
  /** As CUDA reports them: 13000 is 13.0. */
  driverVersion: string;
  runtimeVersion: string;
  /** True for the host-emulation build used by tests (RESNET_CUDA_EMULATE=1). */
  emulated: boolean;
  /** Where cuBLAS was loaded from, or why it was not (our own kernels run the products then). */
  cublas: string;
}

const version = (v: number) => `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;

/** The GPU the backend runs on; undefined when there is none. */
export function deviceInfo(): DeviceInfo | undefined {
  const init = deviceInit();
  const addon = loadAddon();
  if (!init || !addon) return undefined;
  return {
    name: init.name,
    computeCapability: init.computeCapability,
    memoryBytes: init.memoryBytes,
    multiprocessors: init.multiprocessors,
    driverVersion: version(init.driverVersion),
    runtimeVersion: version(init.runtimeVersion),
    emulated: init.emulated,
    cublas: addon.cublas().status,
  };
}

function activeCuda(): CudaBackend | undefined {
  const registry = engine().registry as Record<string, unknown>;
  return registry[BACKEND_NAME] as CudaBackend | undefined;
}

/** The caching allocator's figures (undefined before the backend is first used). */
export function memoryUsage(): (AllocatorStats & { scratchBytes: number }) | undefined {
  const backend = activeCuda();
  if (!backend) return undefined;
  return { ...backend.allocatorStats(), scratchBytes: backend.addon.memInfo().scratch };
}

/** Returns cached device blocks and scratch buffers to the driver; the bytes freed. */
export function emptyCache(): number {
  const backend = activeCuda();
  if (!backend) return 0;
  const scratch = backend.addon.memInfo().scratch;
  backend.addon.releaseScratch();
  return backend.allocator.emptyCache() + scratch;
}

/**
 * What this backend offers, as `@resnet-ts/backends` reads it (its `BackendCapabilities`).
 * `configureBackend` sets the precision
 * through it; benchmark records read the GPU and the precision from it. Threads: none to set.
 */
export const capabilities = {
  name: BACKEND_NAME,
  precisions: PRECISIONS,
  setPrecision,
  getPrecision,
  /** The fused kernels with CUDA implementations (ours, `ResNet*`, and tfjs's `Fused*`). */
  get fusedKernels(): string[] {
    return NATIVE_KERNELS.map((k) => k.kernelName).filter((name) => /^ResNet|Fused/.test(name));
  },
  device: deviceInfo,
} satisfies BackendCapabilities;
