import '@tensorflow/tfjs-backend-cpu';
import {
  getKernel,
  getKernelsForBackend,
  type KernelConfig,
  registerBackend,
  registerKernel,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { CudaBackend } from './backend';
import { fallbackKernel } from './fallback';
import { convKernels } from './kernels/conv';
import { elementwiseKernels } from './kernels/elementwise';
import { layoutKernels } from './kernels/layout';
import { normKernels } from './kernels/norm';
import { poolKernels } from './kernels/pool';
import { reduceKernels } from './kernels/reduce';
import { emulationRequested, loadAddon } from './native';

export const BACKEND_NAME = 'cuda';
/** Above 'onednn' (3), 'wasm' (2) and 'cpu' (1): tfjs picks the GPU by default when it works. */
export const BACKEND_PRIORITY = 4;

/** The kernels with CUDA implementations; every other CPU kernel runs on the CPU (see fallback). */
export const NATIVE_KERNELS: readonly KernelConfig[] = [
  ...elementwiseKernels,
  ...layoutKernels,
  ...reduceKernels,
  ...convKernels,
  ...poolKernels,
  ...normKernels,
];

let registered = false;

/** Registers the backend and its kernels (idempotent); called on import. */
export function registerCudaBackend(): void {
  if (registered) return;
  registered = true;
  // Unavailable (or emulated, which is for tests): registered so that selecting it explains
  // itself, but never chosen by default.
  const priority = loadAddon() && !emulationRequested() ? BACKEND_PRIORITY : 0;
  registerBackend(BACKEND_NAME, () => new CudaBackend(), priority);
  const native = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
  for (const kernel of getKernelsForBackend('cpu')) {
    if (!native.has(kernel.kernelName)) registerKernel(fallbackKernel(kernel.kernelName));
  }
  for (const kernel of NATIVE_KERNELS) {
    if (getKernel(kernel.kernelName, BACKEND_NAME)) unregisterKernel(kernel.kernelName, BACKEND_NAME);
    registerKernel(kernel);
  }
}
