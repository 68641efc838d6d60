import { SGD_UPDATE_KERNEL } from '@resnet-ts/resnet-core/kernel-names';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { float32Of, outputArray } from '../data';
import { requireAddon } from '../native';
import { type KernelArgs, onednnKernel } from './fallback';

// One SGD step of one parameter: @resnet-ts/resnet-core's SGD_UPDATE_KERNEL (its contract).

export interface SgdUpdateAttrs {
  lr: number;
  momentum: number;
  nesterov: boolean;
  keep: number;
}

function sgdUpdate(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as MathBackendCPU;
  const { param, grad, velocity } = args.inputs as Record<string, TensorInfo | undefined>;
  const { lr, momentum, nesterov, keep } = args.attrs as unknown as SgdUpdateAttrs;
  const values = [param, grad, velocity].map((t) => (t ? float32Of(backend, t) : null));
  const [p, g, v] = values;
  if (!p || !g || (velocity && !v) || g.length !== p.length || (v && v.length !== p.length)) {
    throw new Error(`${SGD_UPDATE_KERNEL}: expected float32 param, grad and velocity of one shape`);
  }
  const paramOut = outputArray(p.length);
  const velocityOut = v ? outputArray(p.length) : null;
  requireAddon().sgdUpdate(p, g, v ?? null, paramOut, velocityOut, lr, momentum, nesterov, keep);
  const outputs = [backend.makeTensorInfo(param!.shape, 'float32', paramOut)];
  if (velocityOut) outputs.push(backend.makeTensorInfo(param!.shape, 'float32', velocityOut));
  return outputs;
}

export const optimizerKernels: KernelConfig[] = [onednnKernel(SGD_UPDATE_KERNEL, sgdUpdate)];
