import * as tfl from '@tensorflow/tfjs-layers';
import { type StageOptions, stage } from './blocks';
import { type ResNetConfig, type ResolvedResNetConfig, resolveResNetConfig } from './config';
import { batchNormRelu, conv, dense, type LayerSettings } from './layer-helpers';
import { FIRST_STAGE, layerName, stageName } from './layer-names';

type Tensor = tfl.SymbolicTensor;

/** The block options of every stage, from the resolved config (so no block default applies). */
function blockOptionsOf(cfg: ResolvedResNetConfig): Omit<StageOptions, 'name' | 'blocks' | 'filters'> {
  return {
    seed: cfg.seed,
    convBias: cfg.convBias,
    batchNorm: cfg.batchNorm,
    fuseBatchNormRelu: cfg.fuseBatchNormRelu,
    block: cfg.block,
    shortcut: cfg.shortcut,
    strideOn: cfg.strideOn,
    preactivation: cfg.preactivation,
    zeroInitResidual: cfg.zeroInitResidual,
  };
}

/** ImageNet stem: 7x7/2 convolution and 3x3/2 max-pool, padded like torchvision and Keras. */
function imagenetStem(x: Tensor, cfg: ResolvedResNetConfig, settings: LayerSettings): Tensor {
  let y = conv(
    x,
    { filters: cfg.stemFilters, kernelSize: 7, strides: 2, name: layerName({ at: 'stem', layer: 'conv' }) },
    settings,
  );
  if (!cfg.preactivation) {
    y = batchNormRelu(
      y,
      layerName({ at: 'stem', layer: 'bn' }),
      layerName({ at: 'stem', layer: 'relu' }),
      settings,
    );
  }
  y = tfl.layers
    .zeroPadding2d({ padding: [1, 1], name: layerName({ at: 'pool1', layer: 'pad' }) })
    .apply(y) as Tensor;
  return tfl.layers
    .maxPooling2d({
      poolSize: 3,
      strides: 2,
      padding: 'valid',
      name: layerName({ at: 'pool1', layer: 'pool' }),
    })
    .apply(y) as Tensor;
}

/** CIFAR stem: one 3x3 convolution with 16 filters (He et al. 2015, section 4.2). */
function cifarStem(x: Tensor, cfg: ResolvedResNetConfig, settings: LayerSettings): Tensor {
  const y = conv(
    x,
    { filters: cfg.stemFilters, kernelSize: 3, name: layerName({ at: 'stem', layer: 'conv' }) },
    settings,
  );
  return cfg.preactivation
    ? y
    : batchNormRelu(
        y,
        layerName({ at: 'stem', layer: 'bn' }),
        layerName({ at: 'stem', layer: 'relu' }),
        settings,
      );
}

function head(x: Tensor, cfg: ResolvedResNetConfig, settings: LayerSettings): Tensor {
  let y = x;
  if (cfg.preactivation) {
    y = batchNormRelu(
      y,
      layerName({ at: 'post', layer: 'bn' }),
      layerName({ at: 'post', layer: 'relu' }),
      settings,
    );
  }
  const avgPool = (t: Tensor) =>
    tfl.layers
      .globalAveragePooling2d({ name: layerName({ at: 'top', layer: 'avg_pool' }) })
      .apply(t) as Tensor;
  if (cfg.includeTop) {
    y = avgPool(y);
    if (cfg.dropout > 0) {
      y = tfl.layers
        .dropout({ rate: cfg.dropout, name: layerName({ at: 'top', layer: 'top_dropout' }) })
        .apply(y) as Tensor;
    }
    const predictions = layerName({ at: 'top', layer: 'predictions' });
    return dense(y, cfg.numClasses, predictions, cfg.classifierActivation, settings);
  }
  if (cfg.pooling === 'avg') return avgPool(y);
  if (cfg.pooling === 'max') {
    return tfl.layers
      .globalMaxPooling2d({ name: layerName({ at: 'top', layer: 'max_pool' }) })
      .apply(y) as Tensor;
  }
  return y;
}

/** Builds the network a resolved config describes. */
export function buildFromResolved(cfg: ResolvedResNetConfig): tfl.LayersModel {
  const options = blockOptionsOf(cfg);
  const input = tfl.input({ shape: cfg.inputShape, name: layerName({ at: 'input' }) });
  let x = cfg.family === 'imagenet' ? imagenetStem(input, cfg, options) : cifarStem(input, cfg, options);
  cfg.stages.forEach((s, i) => {
    x = stage(x, {
      ...options,
      name: stageName(FIRST_STAGE + i),
      blocks: s.blocks,
      filters: s.filters,
      strides: s.strides,
    });
  });
  return tfl.model({ inputs: input, outputs: head(x, cfg, options), name: cfg.name });
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
