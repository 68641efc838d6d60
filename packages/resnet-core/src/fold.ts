import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** A layer of a functional model's config (`model.getConfig().layers`). */
interface LayerConfig {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** One entry per call of the layer; each lists [layerName, nodeIndex, tensorIndex, kwargs]. */
  inboundNodes: [string, number, number, unknown][][];
}

interface FunctionalConfig {
  name: string;
  layers: LayerConfig[];
  inputLayers: [string, number, number][];
  outputLayers: [string, number, number][];
}

/** One Conv2D → BatchNormalization (→ Activation) chain merged into the Conv2D. */
export interface FoldedChain {
  conv: string;
  batchNorm: string;
  /** The Activation layer merged into the convolution's `activation`, if any. */
  activation?: string;
  /** The convolution's activation after folding (a ResNetBatchNormReLU brings its ReLU). */
  activationName?: string;
}

export interface FoldResult {
  /** The inference model: the folded convolutions carry a bias (and the activation). */
  model: tfl.LayersModel;
  folded: FoldedChain[];
}

/** The single layer reading `name`'s output, or undefined when there are none or several (or it is a model output). */
function soleConsumer(config: FunctionalConfig, name: string): LayerConfig | undefined {
  if (config.outputLayers.some(([output]) => output === name)) return undefined;
  const readers = config.layers.filter((layer) =>
    layer.inboundNodes.some((node) => node.some(([input]) => input === name)),
  );
  const reads = readers.flatMap((layer) => layer.inboundNodes.flat().filter(([input]) => input === name));
  return readers.length === 1 && reads.length === 1 ? readers[0] : undefined;
}

const calledOnce = (layer: LayerConfig) =>
  layer.inboundNodes.length === 1 && layer.inboundNodes[0]?.length === 1;

/** Batch norm layer classes that fold: the stock one, and ours with its ReLU built in. */
const BATCH_NORMS = ['BatchNormalization', 'ResNetBatchNormReLU'];

function findChains(config: FunctionalConfig): FoldedChain[] {
  const chains: FoldedChain[] = [];
  for (const conv of config.layers) {
    if (conv.className !== 'Conv2D' || !calledOnce(conv)) continue;
    if (conv.config.activation !== 'linear' || conv.config.dataFormat !== 'channelsLast') continue;
    const bn = soleConsumer(config, conv.name);
    if (!bn || !BATCH_NORMS.includes(bn.className) || !calledOnce(bn)) continue;
    if (bn.config.axis !== -1 && bn.config.axis !== 3) continue;
    const chain: FoldedChain = { conv: conv.name, batchNorm: bn.name };
    if (bn.className === 'ResNetBatchNormReLU') {
      chain.activationName = 'relu';
      chains.push(chain);
      continue;
    }
    const activation = soleConsumer(config, bn.name);
    if (activation?.className === 'Activation' && calledOnce(activation)) {
      chain.activation = activation.name;
      chain.activationName = String(activation.config.activation);
    }
    chains.push(chain);
  }
  return chains;
}

/** Kernel and bias of a convolution followed by batch norm in inference mode. */
function foldedWeights(conv: tfl.layers.Layer, bn: tfl.layers.Layer): tf.Tensor[] {
  return tf.tidy(() => {
    const [kernel, convBias] = conv.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
    const bnConfig = bn.getConfig() as { center: boolean; scale: boolean; epsilon: number };
    const bnWeights = bn.getWeights();
    let index = 0;
    const gamma = bnConfig.scale ? bnWeights[index++] : undefined;
    const beta = bnConfig.center ? bnWeights[index++] : undefined;
    const [mean, variance] = [bnWeights[index] as tf.Tensor1D, bnWeights[index + 1] as tf.Tensor1D];
    const inverseStd = tf.rsqrt(tf.add(variance, bnConfig.epsilon));
    const scale = gamma ? tf.mul(gamma, inverseStd) : inverseStd;
    const bias = tf.mul(convBias ? tf.sub(convBias, mean) : tf.neg(mean), scale);
    return [tf.mul(kernel, scale), beta ? tf.add(bias, beta) : bias];
  });
}

/**
 * Folds every Conv2D → BatchNormalization (→ Activation) chain of a functional model into the
 * Conv2D, for inference: the batch norm's moving statistics, scale and offset become the
 * convolution's kernel and bias, and a following Activation becomes the convolution's
 * activation, so one fused convolution replaces three full passes over the activations. The
 * original model is left untouched; the result predicts what `model` predicts in inference mode
 * (up to float32 rounding) and is not meant for training (its batch norms are gone). Layers used
 * more than once, or whose output feeds more than one layer, are left as they are.
 */
export function foldBatchNorm(model: tfl.LayersModel): FoldResult {
  const config = JSON.parse(JSON.stringify(model.getConfig())) as FunctionalConfig;
  if (!Array.isArray(config.layers) || !Array.isArray(config.outputLayers)) {
    throw new TypeError(
      'foldBatchNorm: expected a functional model (tf.model or buildResNet), not a Sequential one',
    );
  }
  const chains = findChains(config);
  const renamed = new Map<string, string>();
  const removed = new Set<string>();
  for (const chain of chains) {
    for (const folded of [chain.batchNorm, chain.activation]) {
      if (folded === undefined) continue;
      renamed.set(folded, chain.conv);
      removed.add(folded);
    }
    const conv = config.layers.find((layer) => layer.name === chain.conv) as LayerConfig;
    conv.config.useBias = true;
    conv.config.activation = chain.activationName ?? 'linear';
  }
  const rename = (name: string) => renamed.get(name) ?? name;
  config.layers = config.layers
    .filter((layer) => !removed.has(layer.name))
    .map((layer) => ({
      ...layer,
      inboundNodes: layer.inboundNodes.map((node) =>
        node.map(([input, nodeIndex, tensorIndex, kwargs]) => [
          rename(input),
          nodeIndex,
          tensorIndex,
          kwargs,
        ]),
      ),
    }));
  config.outputLayers = config.outputLayers.map(([output, nodeIndex, tensorIndex]) => [
    rename(output),
    nodeIndex,
    tensorIndex,
  ]);
  config.name = `${model.name}_folded`;

  const folded = tfl.LayersModel.fromConfig(
    tfl.LayersModel as unknown as tf.serialization.SerializableConstructor<tfl.LayersModel>,
    config as unknown as tf.serialization.ConfigDict,
    {},
    true, // no initialisation: every weight is set below
  ) as tfl.LayersModel;
  const byConv = new Map(chains.map((chain) => [chain.conv, chain]));
  for (const layer of folded.layers) {
    const chain = byConv.get(layer.name);
    const weights = chain
      ? foldedWeights(model.getLayer(chain.conv), model.getLayer(chain.batchNorm))
      : model.getLayer(layer.name).getWeights();
    if (weights.length > 0) layer.setWeights(weights);
    if (chain) tf.dispose(weights);
  }
  return { model: folded, folded: chains };
}
