import * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormOptions } from './config';
import { RESNET_DEFAULTS } from './defaults';
import { padNameOf } from './layer-names';
import { BatchNormalization, BatchNormReLU } from './layers/batch-normalization';
import { layerSeed } from './seeds';

type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/** Options every layer helper needs: seeding, bias and batch-norm settings. */
export interface LayerSettings {
  seed?: number;
  convBias?: boolean;
  batchNorm?: BatchNormOptions;
  /** Build batch norm + ReLU pairs as one BatchNormReLU layer. */
  fuseBatchNormRelu?: boolean;
}

let placeholderWeights = false;

/**
 * Runs `build` with every initializer replaced by zeros: for counting parameters and FLOPs, where
 * the graph matters and drawing tens of millions of random numbers would only cost time.
 */
export function withPlaceholderWeights<T>(build: () => T): T {
  const previous = placeholderWeights;
  placeholderWeights = true;
  try {
    return build();
  } finally {
    placeholderWeights = previous;
  }
}

function init(make: () => Initializer): Initializer {
  return placeholderWeights ? tfl.initializers.zeros() : make();
}

export function channelsOf(x: tfl.SymbolicTensor): number {
  const channels = x.shape[x.shape.length - 1];
  if (channels == null) throw new Error(`${x.name}: the channel dimension must be known`);
  return channels;
}

export interface ConvSpec {
  filters: number;
  kernelSize: number;
  strides?: number;
  name: string;
  /** Zero kernel: the last convolution of a pre-activation residual branch. */
  zeroKernel?: boolean;
}

/**
 * A convolution with PyTorch/Keras-v2 padding: stride-1 'same' is symmetric, strided convolutions
 * get an explicit `<name>_pad` (k // 2 on each side) and 'valid', because tfjs 'same' would pad
 * only after and shift the sampling grid relative to torchvision and Keras weights.
 */
export function conv(x: tfl.SymbolicTensor, spec: ConvSpec, settings: LayerSettings): tfl.SymbolicTensor {
  const strides = spec.strides ?? 1;
  const half = Math.floor(spec.kernelSize / 2);
  let input = x;
  let padding: 'same' | 'valid' = 'same';
  if (spec.kernelSize === 1) {
    padding = 'valid';
  } else if (strides > 1) {
    input = tfl.layers
      .zeroPadding2d({ padding: [half, half], name: padNameOf(spec.name) })
      .apply(x) as tfl.SymbolicTensor;
    padding = 'valid';
  }
  return tfl.layers
    .conv2d({
      filters: spec.filters,
      kernelSize: spec.kernelSize,
      strides,
      padding,
      useBias: settings.convBias ?? RESNET_DEFAULTS.convBias,
      kernelInitializer: init(() =>
        spec.zeroKernel
          ? tfl.initializers.zeros()
          : tfl.initializers.heNormal({ seed: layerSeed(settings.seed, spec.name) }),
      ),
      biasInitializer: 'zeros',
      name: spec.name,
    })
    .apply(input) as tfl.SymbolicTensor;
}

function batchNormArgs(name: string, settings: LayerSettings, zeroGamma: boolean) {
  return {
    axis: -1,
    momentum: settings.batchNorm?.momentum ?? RESNET_DEFAULTS.batchNorm.momentum,
    epsilon: settings.batchNorm?.epsilon ?? RESNET_DEFAULTS.batchNorm.epsilon,
    gammaInitializer: zeroGamma ? 'zeros' : 'ones',
    name,
  } as const;
}

export function batchNorm(
  x: tfl.SymbolicTensor,
  name: string,
  settings: LayerSettings,
  zeroGamma = false,
): tfl.SymbolicTensor {
  return new BatchNormalization(batchNormArgs(name, settings, zeroGamma)).apply(x) as tfl.SymbolicTensor;
}

export function relu(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
  return tfl.layers.activation({ activation: 'relu', name }).apply(x) as tfl.SymbolicTensor;
}

/** Batch norm then ReLU: two layers, or one BatchNormReLU named `bnName` when fusing. */
export function batchNormRelu(
  x: tfl.SymbolicTensor,
  bnName: string,
  reluName: string,
  settings: LayerSettings,
): tfl.SymbolicTensor {
  if (!settings.fuseBatchNormRelu) return relu(batchNorm(x, bnName, settings), reluName);
  return new BatchNormReLU(batchNormArgs(bnName, settings, false)).apply(x) as tfl.SymbolicTensor;
}

export function dense(
  x: tfl.SymbolicTensor,
  units: number,
  name: string,
  activation: 'softmax' | 'linear' | 'relu',
  settings: LayerSettings,
): tfl.SymbolicTensor {
  return tfl.layers
    .dense({
      units,
      activation,
      name,
      kernelInitializer: init(() => tfl.initializers.glorotUniform({ seed: layerSeed(settings.seed, name) })),
    })
    .apply(x) as tfl.SymbolicTensor;
}

/** Seeded He-normal kernel (zeros under `withPlaceholderWeights`), for builders with their own layers. */
export function heNormalKernel(settings: LayerSettings, name: string): Initializer {
  return init(() => tfl.initializers.heNormal({ seed: layerSeed(settings.seed, name) }));
}
