import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { markInputsEscaped } from '../buffer-pool';
import { ensureNativeGradients } from '../gradients';

type KernelArgs = Parameters<KernelFunc>[0];

/** Runs the tfjs CPU backend's kernel for the cases a native kernel does not cover. */
export function cpuKernel(kernelName: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const config = getKernel(kernelName, 'cpu');
  if (!config) throw new Error(`onednn: no cpu kernel ${kernelName} to fall back to`);
  const backend = args.backend as MathBackendCPU;
  markInputsEscaped(
    args.inputs as Record<string, TensorInfo | undefined>,
    (t) => backend.data.get(t.dataId)?.values,
  );
  return config.kernelFunc(args) as TensorInfo | TensorInfo[];
}

/** A kernel config for the onednn backend; running it makes sure the native gradients are in place. */
export function onednnKernel(kernelName: string, kernelFunc: KernelFunc): KernelConfig {
  return {
    kernelName,
    backendName: 'onednn',
    kernelFunc: (args) => {
      ensureNativeGradients();
      return kernelFunc(args);
    },
  };
}

export type { KernelArgs, NamedAttrMap };
