import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { _FusedMatMul, BatchMatMul, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { float32Of, outputArray, sizeOf } from '../data';
import { requireAddon } from '../native';
import { activationCode } from './conv';
import { cpuKernel, type KernelArgs, onednnKernel } from './fallback';

type MatMulAttrs = { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number };

function matMul(args: KernelArgs, kernelName: string): TensorInfo | TensorInfo[] {
  const backend = args.backend as MathBackendCPU;
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as MatMulAttrs;
  const av = float32Of(backend, a!);
  const bv = float32Of(backend, b!);
  const biasValues = bias ? float32Of(backend, bias) : null;
  const activation = activationCode(attrs.activation);
  const rank = a!.shape.length;
  if (
    !av ||
    !bv ||
    biasValues === undefined ||
    activation === undefined ||
    preluActivationWeights ||
    rank < 2 ||
    b!.shape.length !== rank
  ) {
    return cpuKernel(kernelName, args);
  }
  const [aRows, aCols] = a!.shape.slice(-2) as [number, number];
  const [bRows, bCols] = b!.shape.slice(-2) as [number, number];
  const [M, K] = attrs.transposeA ? [aCols, aRows] : [aRows, aCols];
  const [K2, N] = attrs.transposeB ? [bCols, bRows] : [bRows, bCols];
  const batchA = sizeOf(a!.shape.slice(0, -2));
  const batchB = sizeOf(b!.shape.slice(0, -2));
  // Batch dimensions must match or one side must have none (oneDNN broadcasts a batch of 1).
  const batchShape = batchA >= batchB ? a!.shape.slice(0, -2) : b!.shape.slice(0, -2);
  const batchesCompatible =
    batchA === batchB
      ? a!.shape.slice(0, -2).join() === b!.shape.slice(0, -2).join()
      : Math.min(batchA, batchB) === 1;
  if (K !== K2 || !batchesCompatible || (biasValues && biasValues.length !== N))
    return cpuKernel(kernelName, args);
  const outShape = [...batchShape, M, N];
  const out = outputArray(sizeOf(outShape));
  if (out.length > 0) {
    const params = Int32Array.from([
      batchA,
      batchB,
      M,
      K,
      N,
      attrs.transposeA ? 1 : 0,
      attrs.transposeB ? 1 : 0,
    ]);
    requireAddon().matmul(params, av, bv, biasValues, out, activation, attrs.leakyreluAlpha ?? 0.2);
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
}

export const matMulKernels: KernelConfig[] = [
  onednnKernel(BatchMatMul, (args) => matMul(args, BatchMatMul)),
  onednnKernel(_FusedMatMul, (args) => matMul(args, _FusedMatMul)),
];
