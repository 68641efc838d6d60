import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { float32Of, outputArray } from '../data';
import { requireAddon } from '../native';
import { type KernelArgs, onednnKernel } from './fallback';

/**
 * One SGD step of one parameter as a single kernel: the contract with @resnet-ts/train's optimiser,
 * which calls it when the active backend registers it. Inputs `param`, `grad` and, with momentum,
 * `velocity`; attrs `lr`, `momentum`, `nesterov`, `keep` (1 − lr·weightDecay). Outputs the new
 * parameter and, with momentum, the new velocity:
 *   v' = v·momentum + g;  d = nesterov ? g + v'·momentum : v' (d = g without velocity);  p' = p·keep − d·lr
 * Each step rounds to float32 as the same sequence of tfjs ops does.
 */
export const SGD_UPDATE = 'ResNetSgdUpdate';

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
    throw new Error(`${SGD_UPDATE}: expected float32 param, grad and velocity of one shape`);
  }
  const paramOut = outputArray(p.length);
  const velocityOut = v ? outputArray(p.length) : null;
  requireAddon().sgdUpdate(p, g, v ?? null, paramOut, velocityOut, lr, momentum, nesterov, keep);
  const outputs = [backend.makeTensorInfo(param!.shape, 'float32', paramOut)];
  if (velocityOut) outputs.push(backend.makeTensorInfo(param!.shape, 'float32', velocityOut));
  return outputs;
}

export const optimizerKernels: KernelConfig[] = [onednnKernel(SGD_UPDATE, sgdUpdate)];
