import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedConv2D } from './layers/fused-conv2d';
import { SubsampleZeroPad } from './layers/subsample-zero-pad';

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

/** A convolution merged with the layers around it into one FusedConv2D (`ResNetFusedConv2D`). */
export interface FusedConv {
  conv: string;
  /** The residual Add merged into it (its other input is the layer's shortcut input). */
  add?: string;
  /** The ReLU after the addition, merged in. */
  activation?: string;
  /** The option-A shortcut (SubsampleZeroPad) merged in: the layer subsamples and pads it. */
  shortcut?: string;
  /** The ZeroPadding2D before the convolution, merged in as explicit padding. */
  padding?: string;
}

export interface FoldOptions {
  /**
   * Also merge each residual addition into the convolution before it (with the ReLU after the
   * addition, an option-A shortcut's subsampling and zero channels, and a ZeroPadding2D before a
   * strided convolution) as one FusedConv2D layer, which a backend with the `ResNetFusedConv2D`
   * kernel runs in one pass and every other backend runs as the original ops. Default true.
   */
  fuse?: boolean;
}

export interface FoldResult {
  /** The inference model: the folded convolutions carry a bias (and the activation). */
  model: tfl.LayersModel;
  folded: FoldedChain[];
  /** The convolutions that became FusedConv2D layers, and what each absorbed. */
  fused: FusedConv[];
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

type InboundRef = [string, number, number, unknown];

/**
 * Removes layers from a config: `renamed` ones have their readers (and the outputs) pointed at
 * their replacement, `dropped` ones have no readers left.
 */
function removeLayers(config: FunctionalConfig, renamed: Map<string, string>, dropped: Set<string>): void {
  const rename = (name: string) => {
    let current = name;
    while (renamed.has(current)) current = renamed.get(current) as string;
    return current;
  };
  config.layers = config.layers
    .filter((layer) => !renamed.has(layer.name) && !dropped.has(layer.name))
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
}

const byName = (config: FunctionalConfig, name: string) => config.layers.find((layer) => layer.name === name);

/** A Conv2D config as a FusedConv2D config (same weights: kernel, bias). */
function asFusedConv(conv: LayerConfig): void {
  if (conv.className === FusedConv2D.className) return;
  const c = conv.config;
  conv.className = FusedConv2D.className;
  conv.config = {
    name: c.name,
    trainable: c.trainable,
    dtype: c.dtype,
    filters: c.filters,
    kernelSize: c.kernelSize,
    strides: c.strides,
    padding: c.padding,
    explicitPadding: null,
    dilationRate: c.dilationRate,
    activation: c.activation,
    useBias: c.useBias,
    residual: false,
    shortcutStrides: 1,
    shortcutPadChannels: [0, 0],
  };
}

/** A Conv2D that FusedConv2D can stand for: channels last, called once, linear or ReLU. */
function fusableConv(layer: LayerConfig | undefined, activations: string[]): layer is LayerConfig {
  if (!layer || !calledOnce(layer)) return false;
  if (layer.className === FusedConv2D.className) return activations.includes(String(layer.config.activation));
  return (
    layer.className === 'Conv2D' &&
    layer.config.dataFormat === 'channelsLast' &&
    activations.includes(String(layer.config.activation))
  );
}

/**
 * Merges Conv2D → Add (→ ReLU) chains, with an option-A shortcut feeding the Add and a
 * ZeroPadding2D feeding the convolution, into FusedConv2D layers (in place on the config).
 */
function fuseConvolutions(config: FunctionalConfig, model: tfl.LayersModel): FusedConv[] {
  const fused = new Map<string, FusedConv>();
  const renamed = new Map<string, string>();
  const dropped = new Set<string>();
  for (const add of [...config.layers]) {
    if (add.className !== 'Add' || add.inboundNodes.length !== 1 || add.inboundNodes[0]!.length !== 2)
      continue;
    const refs = add.inboundNodes[0] as InboundRef[];
    // The branch is the convolution read only by this Add (the second input when both are).
    const branchIndex = [1, 0].find((i) => {
      const conv = byName(config, refs[i]![0]);
      return (
        fusableConv(conv, ['linear']) &&
        !conv.config.residual &&
        refs[i]![2] === 0 &&
        soleConsumer(config, conv.name) === add
      );
    });
    if (branchIndex === undefined) continue;
    const conv = byName(config, refs[branchIndex]![0]) as LayerConfig;
    let shortcutRef = refs[1 - branchIndex] as InboundRef;
    const entry: FusedConv = { conv: conv.name, add: add.name };
    asFusedConv(conv);
    const subsample = byName(config, shortcutRef[0]);
    if (
      subsample?.className === SubsampleZeroPad.className &&
      calledOnce(subsample) &&
      soleConsumer(config, subsample.name) === add
    ) {
      const inputChannels = (model.getLayer(subsample.name).input as tfl.SymbolicTensor).shape[3];
      const extra = Number(subsample.config.filters) - Number(inputChannels);
      conv.config.shortcutStrides = subsample.config.strides;
      conv.config.shortcutPadChannels = [Math.floor(extra / 2), extra - Math.floor(extra / 2)];
      shortcutRef = subsample.inboundNodes[0]![0] as InboundRef;
      entry.shortcut = subsample.name;
      dropped.add(subsample.name);
    }
    conv.config.residual = true;
    conv.inboundNodes = [[conv.inboundNodes[0]![0]!, shortcutRef]];
    renamed.set(add.name, conv.name);
    const relu = soleConsumer(config, add.name);
    if (relu?.className === 'Activation' && relu.config.activation === 'relu' && calledOnce(relu)) {
      conv.config.activation = 'relu';
      entry.activation = relu.name;
      renamed.set(relu.name, conv.name);
    }
    fused.set(conv.name, entry);
  }
  removeLayers(config, renamed, dropped);

  // A ZeroPadding2D read only by a 'valid' convolution becomes the convolution's explicit padding.
  dropped.clear();
  for (const pad of config.layers) {
    if (pad.className !== 'ZeroPadding2D' || !calledOnce(pad)) continue;
    if ((pad.config.dataFormat ?? 'channelsLast') !== 'channelsLast') continue;
    const conv = soleConsumer(config, pad.name);
    if (!fusableConv(conv, ['linear', 'relu']) || conv.config.padding !== 'valid') continue;
    if (conv.config.explicitPadding || conv.inboundNodes[0]![0]![0] !== pad.name) continue;
    asFusedConv(conv);
    conv.config.explicitPadding = pad.config.padding;
    conv.inboundNodes[0]![0] = pad.inboundNodes[0]![0] as InboundRef;
    dropped.add(pad.name);
    const entry = fused.get(conv.name) ?? { conv: conv.name };
    entry.padding = pad.name;
    fused.set(conv.name, entry);
  }
  removeLayers(config, new Map(), dropped);
  return [...fused.values()];
}

/**
 * Folds every Conv2D → BatchNormalization (→ Activation) chain of a functional model into the
 * Conv2D, for inference: the batch norm's moving statistics, scale and offset become the
 * convolution's kernel and bias, and a following Activation becomes the convolution's
 * activation, so one fused convolution replaces three full passes over the activations. The
 * original model is left untouched; the result predicts what `model` predicts in inference mode
 * (up to float32 rounding) and is not meant for training (its batch norms are gone). Layers used
 * more than once, or whose output feeds more than one layer, are left as they are. With `fuse`
 * (the default), residual additions are then merged into the convolutions before them (`fused`).
 */
export function foldBatchNorm(model: tfl.LayersModel, options: FoldOptions = {}): FoldResult {
  const config = JSON.parse(JSON.stringify(model.getConfig())) as FunctionalConfig;
  if (!Array.isArray(config.layers) || !Array.isArray(config.outputLayers)) {
    throw new TypeError(
      'foldBatchNorm: expected a functional model (tf.model or buildResNet), not a Sequential one',
    );
  }
  const chains = findChains(config);
  const renamed = new Map<string, string>();
  for (const chain of chains) {
    for (const folded of [chain.batchNorm, chain.activation]) {
      if (folded !== undefined) renamed.set(folded, chain.conv);
    }
    const conv = byName(config, chain.conv) as LayerConfig;
    conv.config.useBias = true;
    conv.config.activation = chain.activationName ?? 'linear';
  }
  removeLayers(config, renamed, new Set());
  config.name = `${model.name}_folded`;
  const fused = options.fuse === false ? [] : fuseConvolutions(config, model);

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
  return { model: folded, folded: chains, fused };
}
