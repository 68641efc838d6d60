import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  type backend_util,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { CudaBackend } from './backend';

export type KernelArgs = Parameters<KernelFunc>[0];

const fallbacks = new Map<string, number>();
let warn: ((message: string) => void) | undefined = (message) => console.warn(message);

/** Kernels that ran on the CPU backend because this backend lacks them (or that case), with counts. */
export function cpuFallbackKernels(): string[] {
  return [...fallbacks.keys()].sort();
}

export function cpuFallbackCounts(): Record<string, number> {
  return Object.fromEntries([...fallbacks].sort(([a], [b]) => a.localeCompare(b)));
}

/** Where the one-time warning per fallback kernel goes; `undefined` silences it. */
export function setFallbackWarning(sink: ((message: string) => void) | undefined): void {
  warn = sink;
}

let cpu: MathBackendCPU | undefined;
function cpuBackend(): MathBackendCPU {
  if (!cpu) {
    cpu = new MathBackendCPU();
    // The cpu backend's first write prints "install tfjs-node to speed things up": not for us.
    (cpu as unknown as { firstUse: boolean }).firstUse = false;
  }
  return cpu;
}

function note(label: string): void {
  const count = fallbacks.get(label) ?? 0;
  fallbacks.set(label, count + 1);
  if (count === 0 && warn) {
    warn(
      `cuda: ${label} has no CUDA kernel here and runs on the CPU (its inputs and outputs cross the bus); ` +
        'cpuFallbackKernels() lists every such kernel',
    );
  }
}

/**
 * Runs the tfjs CPU backend's kernel on copies of the inputs and puts its outputs back on this
 * backend. `label` names the kernel (and the case, such as "Conv2D (NCHW)") in the warning.
 */
export function runOnCpu(
  kernelName: string,
  args: KernelArgs,
  label = kernelName,
): TensorInfo | TensorInfo[] {
  const config = getKernel(kernelName, 'cpu');
  if (!config) throw new Error(`cuda: no kernel ${kernelName} on the device or the CPU`);
  note(label);
  const backend = args.backend as CudaBackend;
  const host = cpuBackend();
  const made: TensorInfo[] = [];
  const toCpu = (t: TensorInfo): TensorInfo => {
    const values = backend.readSync(t.dataId);
    const copy = { dataId: host.write(values, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    made.push(copy);
    return copy;
  };
  const inputs = args.inputs as unknown as Record<string, TensorInfo | null | undefined> | TensorInfo[];
  const cpuInputs = Array.isArray(inputs)
    ? inputs.map(toCpu)
    : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t ? toCpu(t) : t]));
  const result = config.kernelFunc({
    inputs: cpuInputs as KernelArgs['inputs'],
    attrs: args.attrs,
    backend: host,
  }) as TensorInfo | TensorInfo[];
  const outputs = (Array.isArray(result) ? result : [result]).map((t) => {
    made.push(t);
    const values = host.readSync(t.dataId) as backend_util.BackendValues;
    // The cpu backend may hand out arrays it reuses: copy before it is disposed.
    const owned = ArrayBuffer.isView(values) ? (values as backend_util.TypedArray).slice() : values;
    return backend.makeTensorInfo(t.shape, t.dtype, owned);
  });
  const disposed = new Set<object>();
  for (const t of made) {
    if (disposed.has(t.dataId)) continue;
    disposed.add(t.dataId);
    host.disposeData(t.dataId, true);
  }
  return Array.isArray(result) ? outputs : (outputs[0] as TensorInfo);
}

/** A kernel config for this backend. */
export function cudaKernel(kernelName: string, kernelFunc: KernelFunc): KernelConfig {
  return { kernelName, backendName: 'cuda', kernelFunc };
}

/** A kernel that always runs on the CPU backend (registered for every CPU kernel we lack). */
export function fallbackKernel(kernelName: string): KernelConfig {
  return cudaKernel(kernelName, (args) => runOnCpu(kernelName, args));
}
