import { FUSED_CONV2D_KERNEL } from '@resnet-ts/resnet-core/kernel-names';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  FusedConv2D,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { dataVersion, float32Of, outputArray, sizeOf } from '../data';
import { FUSED_ACTIVATIONS, type FusedActivation, requireAddon } from '../native';
import { cpuKernel, type KernelArgs, onednnKernel } from './fallback';

type Conv2DInfo = backend_util.Conv2DInfo;

/** The addon's 17 convolution parameters (see native/conv.cc). */
function convParams(info: Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.padInfo.bottom,
    info.padInfo.right,
  ]);
}

/** The addon's code of a tfjs fused activation; undefined for one it lacks (the cpu kernel runs). */
export function activationCode(name: string | undefined): number | undefined {
  const activation = name ?? 'linear';
  return (FUSED_ACTIVATIONS as readonly string[]).includes(activation)
    ? requireAddon().opCodes.activation[activation as FusedActivation]
    : undefined;
}

type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
};

function convInfoOf(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  dilations: ConvAttrs['dilations'],
) {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

function conv2dImpl(args: KernelArgs, fused: boolean): TensorInfo | TensorInfo[] {
  const backend = args.backend as MathBackendCPU;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as ConvAttrs;
  const info = convInfoOf(x!.shape, filter!.shape, attrs, attrs.dilations);
  const activation = activationCode(attrs.activation);
  const xs = float32Of(backend, x!);
  const ws = float32Of(backend, filter!);
  const bs = bias ? float32Of(backend, bias) : null;
  const native =
    info.dataFormat === 'channelsLast' &&
    xs &&
    ws &&
    bs !== undefined &&
    (!bs || bs.length === info.outChannels) &&
    activation !== undefined &&
    !preluActivationWeights;
  if (!native) return cpuKernel(fused ? FusedConv2D : Conv2D, args);
  const out = outputArray(sizeOf(info.outShape));
  requireAddon().conv2d(
    convParams(info),
    xs,
    ws,
    bs,
    out,
    activation,
    attrs.leakyreluAlpha ?? 0.2,
    dataVersion(filter!),
  );
  return backend.makeTensorInfo(info.outShape, 'float32', out);
}

type FusedConvAttrs = ConvAttrs & { shortcutStrides?: number; shortcutChannelsBefore?: number };

/**
 * The inference kernel of @resnet-ts/resnet-core's FusedConv2D layer (FUSED_CONV2D_KERNEL, whose
 * contract it follows): activation(conv(x) + bias + shortcut), the shortcut optionally subsampled
 * and zero-padded along the channels (option A), in one oneDNN convolution with a binary-add or sum
 * post-op.
 */
function fusedConv2d(args: KernelArgs): TensorInfo {
  const backend = args.backend as MathBackendCPU;
  const { x, filter, bias, shortcut } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as FusedConvAttrs;
  const info = convInfoOf(x!.shape, filter!.shape, { ...attrs, dataFormat: 'NHWC' }, attrs.dilations);
  const activation = activationCode(attrs.activation);
  const xs = float32Of(backend, x!);
  const ws = float32Of(backend, filter!);
  const bs = bias ? float32Of(backend, bias) : null;
  const ss = shortcut ? float32Of(backend, shortcut) : null;
  if (!xs || !ws || bs === undefined || ss === undefined || activation === undefined) {
    throw new Error(`${FUSED_CONV2D_KERNEL}: expected float32 NHWC tensors and a linear or fused activation`);
  }
  let shortcutParams: Int32Array | null = null;
  if (shortcut) {
    const [batch, height, width, channels] = shortcut.shape as number[];
    const stride = attrs.shortcutStrides ?? 1;
    const before = attrs.shortcutChannelsBefore ?? 0;
    if (shortcut.shape.length !== 4 || batch !== info.batchSize) {
      throw new Error(
        `${FUSED_CONV2D_KERNEL}: shortcut of shape [${shortcut.shape}] for output [${info.outShape}]`,
      );
    }
    shortcutParams = Int32Array.from([height!, width!, channels!, stride, before]);
  }
  const out = outputArray(sizeOf(info.outShape));
  requireAddon().conv2d(
    convParams(info),
    xs,
    ws,
    bs,
    out,
    activation,
    attrs.leakyreluAlpha ?? 0.2,
    dataVersion(filter!),
    ss,
    shortcutParams,
    true, // inference only: Winograd may be timed too
  );
  return backend.makeTensorInfo(info.outShape, 'float32', out);
}

function conv2dBackpropInput(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as MathBackendCPU;
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as ConvAttrs;
  const info = convInfoOf(attrs.inputShape!, filter!.shape, attrs, 1);
  const dys = float32Of(backend, dy!);
  const ws = float32Of(backend, filter!);
  if (info.dataFormat !== 'channelsLast' || !dys || !ws) return cpuKernel(Conv2DBackpropInput, args);
  const dx = outputArray(sizeOf(info.inShape));
  requireAddon().conv2dBackpropInput(convParams(info), dys, ws, dx);
  return backend.makeTensorInfo(info.inShape, 'float32', dx);
}

function conv2dBackpropFilter(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as MathBackendCPU;
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as ConvAttrs;
  const info = convInfoOf(x!.shape, attrs.filterShape!, attrs, 1);
  const xs = float32Of(backend, x!);
  const dys = float32Of(backend, dy!);
  if (info.dataFormat !== 'channelsLast' || !xs || !dys) return cpuKernel(Conv2DBackpropFilter, args);
  const dw = outputArray(sizeOf(info.filterShape));
  requireAddon().conv2dBackpropFilter(convParams(info), xs, dys, dw);
  return backend.makeTensorInfo(info.filterShape, 'float32', dw);
}

export const convKernels: KernelConfig[] = [
  onednnKernel(Conv2D, (args) => conv2dImpl(args, false)),
  onednnKernel(FusedConv2D, (args) => conv2dImpl(args, true)),
  onednnKernel(FUSED_CONV2D_KERNEL, fusedConv2d),
  onednnKernel(Conv2DBackpropInput, conv2dBackpropInput),
  onednnKernel(Conv2DBackpropFilter, conv2dBackpropFilter),
];
