import type * as tfl from '@tensorflow/tfjs-layers';
import { reluNameOf, stockShortcutName } from './layer-names';
import { BatchNormReLU } from './layers/batch-normalization';
import { SubsampleZeroPad } from './layers/subsample-zero-pad';

/*
 * Rewrites of a saved model topology (the `modelTopology` of `model.json`, as `LayersModel.save`
 * hands it to an IO handler: snake_case keys) that replace this package's layer classes with stock
 * TensorFlow.js / Keras ones computing the same outputs from the same weights, so the written model
 * loads with plain `tf.loadLayersModel` (and Keras) without this package registered. Both rewrite
 * the topology in place; a topology that is not a functional model's is left as it is.
 */

/** A saved topology: `{ model_config: { config: { layers, … } } }` or the model config itself. */
export type SavedTopology = Record<string, unknown>;

type InboundNode = [string, number, number, unknown][];

interface SavedLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown>;
  inbound_nodes?: InboundNode[];
}

interface SavedFunctionalConfig {
  layers?: SavedLayer[];
  output_layers?: [string, number, number][];
}

const functionalConfig = (topology: SavedTopology) =>
  ((topology.model_config ?? topology) as { config?: SavedFunctionalConfig }).config;

/**
 * Writes every `ResNetBatchNormReLU` layer as the stock pair it stands for: a BatchNormalization
 * keeping its name and weights (`x_bn`), then a ReLU Activation (`x_relu`), which every reader of
 * the fused layer now reads. Throws for a fused layer called more than once.
 */
export function splitBatchNormRelu(topology: SavedTopology): void {
  const config = functionalConfig(topology);
  if (!config?.layers) return;
  const taken = new Set(config.layers.map((layer) => String(layer.config.name ?? layer.name)));
  const renamed = new Map<string, string>();
  const layers: SavedLayer[] = [];
  for (const layer of config.layers) {
    layers.push(layer);
    if (layer.class_name !== BatchNormReLU.className) continue;
    layer.class_name = 'BatchNormalization';
    const bnName = String(layer.config.name);
    if ((layer.inbound_nodes?.length ?? 0) > 1) {
      throw new Error(`${bnName}: a ResNetBatchNormReLU layer called more than once cannot be saved unfused`);
    }
    let reluName = reluNameOf(bnName);
    while (taken.has(reluName)) reluName = `${reluName}_`;
    taken.add(reluName);
    renamed.set(bnName, reluName);
    layers.push({
      class_name: 'Activation',
      name: reluName,
      config: { activation: 'relu', name: reluName, trainable: true },
      inbound_nodes: [[[bnName, 0, 0, {}]]],
    });
  }
  if (renamed.size === 0) return;
  // Everything that read a fused layer now reads its ReLU.
  for (const layer of layers) {
    if (
      layer.class_name === 'Activation' &&
      renamed.get(layer.inbound_nodes?.[0]?.[0]?.[0] ?? '') === layer.name
    ) {
      continue;
    }
    for (const node of layer.inbound_nodes ?? []) {
      for (const input of node) input[0] = renamed.get(input[0]) ?? input[0];
    }
  }
  config.output_layers = config.output_layers?.map(([name, ...rest]) => [renamed.get(name) ?? name, ...rest]);
  config.layers = layers;
}

/**
 * Input channels of each option-A shortcut layer (`ResNetSubsampleZeroPad`) of a model, by layer
 * name: what {@link stockSubsampleZeroPad} needs, since a saved topology holds no shapes.
 */
export function subsampleZeroPadChannels(model: tfl.LayersModel): Map<string, number> {
  return new Map(
    model.layers
      .filter((layer) => layer.getClassName() === SubsampleZeroPad.className)
      .map((layer) => [layer.name, (layer.input as tfl.SymbolicTensor).shape[3] as number] as const),
  );
}

/**
 * Writes each option-A shortcut (`ResNetSubsampleZeroPad`; `inputChannels` gives its input channels
 * by layer name, see {@link subsampleZeroPadChannels}) as stock layers: a 1×1 average pool with the
 * stride (`<name>_subsample`), Permute to channels first (`<name>_channels_first`), ZeroPadding2D
 * on the channel axis (`<name>_pad`) and Permute back, which keeps the shortcut's name. Same outputs.
 */
export function stockSubsampleZeroPad(
  topology: SavedTopology,
  inputChannels: ReadonlyMap<string, number>,
): void {
  const config = functionalConfig(topology);
  if (!config?.layers) return;
  const layers: SavedLayer[] = [];
  for (const layer of config.layers) {
    if (layer.class_name !== SubsampleZeroPad.className) {
      layers.push(layer);
      continue;
    }
    const name = String(layer.config.name);
    const channels = inputChannels.get(name);
    const strides = Number(layer.config.strides);
    const filters = Number(layer.config.filters);
    if (channels === undefined || (layer.inbound_nodes?.length ?? 0) !== 1) {
      throw new Error(`${name}: cannot write this option-A shortcut as stock layers`);
    }
    const extra = filters - channels;
    const before = Math.floor(extra / 2);
    let source = layer.inbound_nodes?.[0] as InboundNode;
    const add = (className: string, layerName: string, layerConfig: Record<string, unknown>) => {
      layers.push({
        class_name: className,
        name: layerName,
        config: { name: layerName, trainable: false, dtype: 'float32', ...layerConfig },
        inbound_nodes: [source],
      });
      source = [[layerName, 0, 0, {}]];
    };
    // 1×1 pooling with stride s keeps x[:, ::s, ::s, :], as the custom layer does.
    add('AveragePooling2D', stockShortcutName(name, 'subsample'), {
      pool_size: [1, 1],
      strides: [strides, strides],
      padding: 'valid',
      data_format: 'channels_last',
    });
    add('Permute', stockShortcutName(name, 'channels_first'), { dims: [3, 1, 2] });
    add('ZeroPadding2D', stockShortcutName(name, 'pad'), {
      padding: [
        [before, extra - before],
        [0, 0],
      ],
      data_format: 'channels_last',
    });
    add('Permute', name, { dims: [2, 3, 1] });
  }
  config.layers = layers;
}
