import { FIRST_STAGE, type LayerSpec, layerName, type ResNetConfig } from '@resnet-ts/resnet-core';
import { WeightFileError } from '../errors';
import type { KerasLayerWeights } from '../formats/keras-h5';
import type { SourceTensors } from '../tensors';
import { configFromArchitecture } from './architecture';
import type { LayerWeightSource } from './assign';

export type { LayerWeightSource } from './assign';

/**
 * The resnet-core config of Keras ResNet weights: keras.applications' ResNet50/101/152 (v1: the stride on
 * the 1x1, conv biases, epsilon 1.001e-5), or any net with resnet-core's (Keras-compatible) layer names.
 */
export function kerasArchitecture(layers: KerasLayerWeights, file: string): ResNetConfig {
  const has = (spec: LayerSpec) => layers.has(layerName(spec));
  const conv = (stage: number, block: number, index: number): LayerSpec => ({
    at: 'block',
    stage,
    block,
    layer: 'conv',
    conv: index,
  });
  const stem = layers.get(layerName({ at: 'stem', layer: 'conv' }));
  if (!stem) {
    const sample = [...layers.keys()].slice(0, 5).join(', ');
    throw new WeightFileError(file, `holds layers ${sample}, …: not a Keras ResNet (no conv1_conv layer)`);
  }
  if (
    has({ at: 'block', stage: FIRST_STAGE, block: 1, layer: 'preact_bn' }) ||
    has({ at: 'post', layer: 'bn' })
  ) {
    throw new WeightFileError(
      file,
      'holds a Keras ResNetV2 (pre-activation, stride on the last block of a stage), which resnet-core does not build',
    );
  }
  const kernel = stem[0]?.shape ?? [];
  if (kernel.length !== 4 || (kernel[0] !== 7 && kernel[0] !== 3)) {
    throw new WeightFileError(
      file,
      `conv1_conv's kernel has shape [${kernel}]; expected a 7x7 (ImageNet) or 3x3 (CIFAR) stem`,
    );
  }
  const blocksPerStage: number[] = [];
  const projections: boolean[][] = [];
  for (let stage = FIRST_STAGE; has(conv(stage, 1, 1)); stage++) {
    let blocks = 0;
    while (has(conv(stage, blocks + 1, 1))) blocks++;
    blocksPerStage.push(blocks);
    projections.push(Array.from({ length: blocks }, (_, b) => has(conv(stage, b + 1, 0))));
  }
  const head = layers.get(layerName({ at: 'top', layer: 'predictions' }))?.[0];
  if (!head || blocksPerStage.length === 0) {
    throw new WeightFileError(
      file,
      `has no ${head ? 'conv2_block1_1_conv' : 'predictions'} layer: not a Keras ResNet with its classifier`,
    );
  }
  const config = configFromArchitecture(
    {
      family: kernel[0] === 7 ? 'imagenet' : 'cifar',
      bottleneck: has(conv(FIRST_STAGE, 1, 3)),
      blocksPerStage,
      projections,
      firstWidth: layers.get(layerName(conv(FIRST_STAGE, 1, 1)))?.[0]?.shape[3] as number,
      numClasses: head.shape[1] as number,
    },
    file,
  );
  return { ...config, strideOn: '1x1', convBias: stem.length === 2, batchNorm: { epsilon: 1.001e-5 } };
}

/** Keras weights flattened to `<layer>/<index>` keys. */
export function flattenKerasWeights(layers: KerasLayerWeights): SourceTensors {
  const tensors: SourceTensors = new Map();
  for (const [layer, weights] of layers) {
    weights.forEach((w, i) => {
      tensors.set(`${layer}/${i}`, w);
    });
  }
  return tensors;
}

/** resnet-core's layer names are Keras's: the same layer, the same weight order and layout. */
export const kerasLayerWeights: LayerWeightSource = {
  kind: 'Keras weight',
  lookup: (layer, _className, count) => Array.from({ length: count }, (_, i) => ({ key: `${layer}/${i}` })),
  ignored: () => false,
};
