import * as tfl from '@tensorflow/tfjs-layers';
import { stage } from './blocks';
import { type ResNetConfig, type ResolvedResNetConfig, resolveResNetConfig } from './config';
import { batchNormRelu, conv, dense, type LayerSettings } from './layer-helpers';

type Tensor = tfl.SymbolicTensor;

/** ImageNet stem: 7x7/2 convolution and 3x3/2 max-pool, padded like torchvision and Keras. */
function imagenetStem(x: Tensor, cfg: ResolvedResNetConfig, settings: LayerSettings): Tensor {
  let y = conv(x, { filters: cfg.stemFilters, kernelSize: 7, strides: 2, name: 'conv1_conv' }, settings);
  if (!cfg.preactivation) y = batchNormRelu(y, 'conv1_bn', 'conv1_relu', settings);
  y = tfl.layers.zeroPadding2d({ padding: [1, 1], name: 'pool1_pad' }).apply(y) as Tensor;
  return tfl.layers
    .maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'pool1_pool' })
    .apply(y) as Tensor;
}

/** CIFAR stem: one 3x3 convolution with 16 filters (He et al. 2015, section 4.2). */
function cifarStem(x: Tensor, cfg: ResolvedResNetConfig, settings: LayerSettings): Tensor {
  const y = conv(x, { filters: cfg.stemFilters, kernelSize: 3, name: 'conv1_conv' }, settings);
  return cfg.preactivation ? y : batchNormRelu(y, 'conv1_bn', 'conv1_relu', settings);
}

function head(x: Tensor, cfg: ResolvedResNetConfig, settings: LayerSettings): Tensor {
  let y = x;
  if (cfg.preactivation) y = batchNormRelu(y, 'post_bn', 'post_relu', settings);
  if (cfg.includeTop) {
    y = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(y) as Tensor;
    if (cfg.dropout > 0)
      y = tfl.layers.dropout({ rate: cfg.dropout, name: 'top_dropout' }).apply(y) as Tensor;
    return dense(y, cfg.numClasses, 'predictions', cfg.classifierActivation, settings);
  }
  if (cfg.pooling === 'avg')
    return tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(y) as Tensor;
  if (cfg.pooling === 'max') return tfl.layers.globalMaxPooling2d({ name: 'max_pool' }).apply(y) as Tensor;
  return y;
}

/** Builds the network a resolved config describes. */
export function buildFromResolved(cfg: ResolvedResNetConfig): tfl.LayersModel {
  const settings: LayerSettings = {
    seed: cfg.seed,
    convBias: cfg.convBias,
    batchNorm: cfg.batchNorm,
    fuseBatchNormRelu: cfg.fuseBatchNormRelu,
  };
  const input = tfl.input({ shape: cfg.inputShape, name: 'input_1' });
  let x = cfg.family === 'imagenet' ? imagenetStem(input, cfg, settings) : cifarStem(input, cfg, settings);
  cfg.stages.forEach((s, i) => {
    x = stage(x, {
      ...settings,
      name: `conv${i + 2}`,
      block: cfg.block,
      blocks: s.blocks,
      filters: s.filters,
      strides: s.strides,
      shortcut: cfg.shortcut,
      strideOn: cfg.strideOn,
      preactivation: cfg.preactivation,
      zeroInitResidual: cfg.zeroInitResidual,
    });
  });
  return tfl.model({ inputs: input, outputs: head(x, cfg, settings), name: cfg.name });
}

/**
 * Builds a ResNet as a Keras-compatible `tf.LayersModel` (not compiled).
 *
 * @example
 * const model = buildResNet({ depth: 50 });                       // ImageNet ResNet-50 (v1.5)
 * const cifar = buildResNet({ depth: 20, numClasses: 10 });       // He et al.'s CIFAR ResNet-20
 */
export function buildResNet(config: ResNetConfig): tfl.LayersModel {
  return buildFromResolved(resolveResNetConfig(config));
}
