import '@tensorflow/tfjs-backend-cpu';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  Cast,
  getKernel,
  getKernelsForBackend,
  Identity,
  type KernelConfig,
  type KernelFunc,
  Reshape,
  registerBackend,
  registerKernel,
  type TensorInfo,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { OneDnnBackend } from './backend';
import { markInputsEscaped } from './buffer-pool';
import { batchNormKernels } from './kernels/batchnorm';
import { convKernels } from './kernels/conv';
import { elementwiseKernels, gradientKernels } from './kernels/elementwise';
import { matMulKernels } from './kernels/matmul';
import { optimizerKernels } from './kernels/optimizer';
import { poolingKernels } from './kernels/pooling';
import { loadAddon } from './native';

export const BACKEND_NAME = 'onednn';
/** Above 'cpu' (1) and 'wasm' (2) so tfjs picks it by default in Node when the addon loads. */
export const BACKEND_PRIORITY = 3;

/** The kernels this package implements natively; all others are the CPU backend's. */
export const NATIVE_KERNELS: readonly KernelConfig[] = [
  ...convKernels,
  ...elementwiseKernels,
  ...gradientKernels,
  ...poolingKernels,
  ...matMulKernels,
  ...batchNormKernels,
  ...optimizerKernels,
];

let registered = false;

/**
 * Whether a CPU kernel may hand out its input's array under another data id (slice returns views).
 * Reshape and Identity only re-reference the input's data id; Cast copies or re-references, except
 * to complex64, whose real part shares the array.
 */
function mayAlias(kernelName: string, attrs: unknown): boolean {
  if (kernelName === Reshape || kernelName === Identity) return false;
  if (kernelName === Cast) return (attrs as { dtype?: string } | undefined)?.dtype === 'complex64';
  return true;
}

/** A CPU kernel under this backend: inputs it may alias are never recycled. */
function cpuKernelFunc(kernel: KernelConfig): KernelFunc {
  return (args) => {
    if (!mayAlias(kernel.kernelName, args.attrs)) return kernel.kernelFunc(args);
    const backend = args.backend as MathBackendCPU;
    markInputsEscaped(
      args.inputs as Record<string, TensorInfo | undefined>,
      (t) => backend.data.get(t.dataId)?.values,
    );
    return kernel.kernelFunc(args);
  };
}

/** Registers the backend and its kernels (idempotent); called on import. */
export function registerOneDnnBackend(): void {
  if (registered) return;
  registered = true;
  // Unavailable addon: still registered (so selecting it explains what to install) but below cpu.
  const priority = loadAddon() ? BACKEND_PRIORITY : 0;
  registerBackend(BACKEND_NAME, () => new OneDnnBackend(), priority);
  const native = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
  for (const kernel of getKernelsForBackend('cpu')) {
    if (native.has(kernel.kernelName)) continue;
    registerKernel({ ...kernel, backendName: BACKEND_NAME, kernelFunc: cpuKernelFunc(kernel) });
  }
  for (const kernel of NATIVE_KERNELS) {
    if (getKernel(kernel.kernelName, BACKEND_NAME)) unregisterKernel(kernel.kernelName, BACKEND_NAME);
    registerKernel(kernel);
  }
}
