import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { OnnxExportError } from './errors';
import { attr, GraphBuilder, tensorInfo } from './graph';
import { type ModelMessage, modelProto, type ValueInfoMessage } from './schema';

/** The ONNX operator sets the exporter writes (`opset` option); the default is widely supported. */
export const ONNX_OPSETS = { min: 13, max: 21, default: 17 } as const;

export interface OnnxExportOptions {
  /** ONNX operator set version, {@link ONNX_OPSETS}.min to .max (default 17). */
  opset?: number;
  /** `producer_version` of the model (`producer_name` is `@resnet-ts/interop`). */
  producerVersion?: string;
  /** Written as the model's `metadata_props`: labels, preprocessing, anything a consumer needs. */
  metadata?: Record<string, string>;
  /** The model's `doc_string` (default: where it came from, its input layout and what was folded). */
  docString?: string;
}

/** A graph input or output: its name and shape, symbolic dimensions by name (`batch`). */
export interface OnnxValueDescription {
  name: string;
  shape: (number | string)[];
}

/** A batch norm folded into the convolution before it. */
export interface FoldedBatchNorm {
  conv: string;
  batchNorm: string;
}

export interface OnnxExport {
  /** The serialised `onnx.ModelProto`. */
  bytes: Uint8Array;
  opset: number;
  irVersion: number;
  inputs: OnnxValueDescription[];
  outputs: OnnxValueDescription[];
  /** Conv2D → batch norm pairs merged into one Conv (weights scaled, bias shifted). */
  foldedBatchNorms: FoldedBatchNorm[];
  /** Batch norms written as ONNX BatchNormalization (no convolution before them, as in pre-activation). */
  batchNorms: string[];
  /** ZeroPadding2D layers folded into the `pads` of the Conv, MaxPool or AveragePool after them. */
  foldedPaddings: string[];
  /** Node count by ONNX operator. */
  operators: Record<string, number>;
}

type Shape = (number | null)[];
type InboundNode = [string, number, number, unknown][];

interface LayerConfig {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inboundNodes: InboundNode[];
}

interface GraphConfig {
  layers: LayerConfig[];
  inputLayers: [string, number, number][];
  outputLayers: [string, number, number][];
}

/** A zero padding not yet written: consumers that can absorb it into their `pads` do. */
interface PendingPad {
  source: Value;
  /** top, bottom, left, right. */
  pads: [number, number, number, number];
  layer: string;
  /** Output name once some consumer needed the padded tensor itself. */
  written?: string;
}

/**
 * A tensor of the Keras graph. Rank-4 tensors are held channels first: internal axis i holds the
 * Keras (channels-last) axis TO_KERAS[i]. Shapes are the Keras ones.
 */
interface Value {
  name?: string;
  shape: Shape;
  /** Every element >= 0 (after a ReLU, softmax …): zero padding before a max-pool is then exact. */
  nonNegative: boolean;
  pad?: PendingPad;
}

/** Internal (NCHW) axis → Keras (NHWC) axis, and back. */
const TO_KERAS = [0, 3, 1, 2];
const FROM_KERAS = [0, 2, 3, 1];

const BATCH_NORMS = new Set(['BatchNormalization', 'ResNetBatchNormReLU']);
/** Layers that are the identity in inference. */
const INFERENCE_IDENTITY = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
]);

const key = (layer: string, node: number, tensor = 0) => `${layer}:${node}:${tensor}`;

function pair(value: unknown, what: string, layer: LayerConfig): [number, number] {
  const values = typeof value === 'number' ? [value, value] : (value as number[] | undefined);
  if (!Array.isArray(values) || values.length !== 2 || !values.every(Number.isInteger)) {
    throw unsupported(layer, `${what} ${JSON.stringify(value)}`);
  }
  return [values[0] as number, values[1] as number];
}

function unsupported(layer: LayerConfig, detail: string): OnnxExportError {
  return new OnnxExportError(
    `exportOnnx: layer ${layer.name} (class ${layer.className}): ${detail} has no ONNX conversion`,
    layer.name,
    layer.className,
  );
}

/** TensorFlow's 'same' padding of one axis: [before, after] (the odd pixel after). */
function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Scale and shift of a batch norm in inference (float64): y = x * scale + shift. */
function batchNormAffine(layer: tfl.layers.Layer): {
  scale: Float64Array;
  shift: Float64Array;
  params: {
    gamma: Float32Array;
    beta: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    epsilon: number;
  };
} {
  const config = layer.getConfig() as { center?: boolean; scale?: boolean; epsilon?: number };
  const weights = layer.getWeights();
  let index = 0;
  const gammaTensor = config.scale !== false ? weights[index++] : undefined;
  const betaTensor = config.center !== false ? weights[index++] : undefined;
  const mean = (weights[index] as tf.Tensor).dataSync() as Float32Array;
  const variance = (weights[index + 1] as tf.Tensor).dataSync() as Float32Array;
  const channels = mean.length;
  const gamma = (gammaTensor?.dataSync() as Float32Array | undefined) ?? new Float32Array(channels).fill(1);
  const beta = (betaTensor?.dataSync() as Float32Array | undefined) ?? new Float32Array(channels);
  const epsilon = config.epsilon ?? 1e-3;
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma[c] as number) / Math.sqrt((variance[c] as number) + epsilon);
    shift[c] = (beta[c] as number) - (mean[c] as number) * (scale[c] as number);
  }
  return { scale, shift, params: { gamma, beta, mean, variance, epsilon } };
}

/** The functional graph of a model (a Sequential one as the chain it is). */
function graphConfig(model: tfl.LayersModel): GraphConfig {
  const config = model.getConfig() as unknown as Partial<GraphConfig> & {
    layers?: { className: string; config: Record<string, unknown>; name?: string }[];
  };
  if (!Array.isArray(config.layers)) throw new OnnxExportError('exportOnnx: the model has no layers');
  if (Array.isArray(config.inputLayers) && Array.isArray(config.outputLayers)) return config as GraphConfig;
  // Sequential: the layers in order, each reading the one before.
  const input = model.inputs[0]?.sourceLayer.name;
  if (input === undefined) throw new OnnxExportError('exportOnnx: the model has no input');
  const layers: LayerConfig[] = [{ name: input, className: 'InputLayer', config: {}, inboundNodes: [] }];
  for (const layer of config.layers) {
    if (layer.className === 'InputLayer') continue;
    const previous = layers[layers.length - 1] as LayerConfig;
    const name = String(layer.config.name ?? layer.name);
    layers.push({
      name,
      className: layer.className,
      config: layer.config,
      inboundNodes: [[[previous.name, 0, 0, {}]]],
    });
  }
  const last = layers[layers.length - 1] as LayerConfig;
  return { layers, inputLayers: [[input, 0, 0]], outputLayers: [[last.name, 0, 0]] };
}

class Exporter {
  readonly graph = new GraphBuilder();
  readonly foldedBatchNorms: FoldedBatchNorm[] = [];
  readonly batchNorms: string[] = [];
  readonly foldedPaddings = new Set<string>();
  private readonly values = new Map<string, Value>();
  /** How often each tensor is read (by layers, and once more per model output). */
  private readonly reads = new Map<string, number>();
  private readonly readers = new Map<string, LayerConfig>();
  private readonly config: GraphConfig;

  constructor(private readonly model: tfl.LayersModel) {
    this.config = graphConfig(model);
    for (const layer of this.config.layers) {
      for (const node of layer.inboundNodes) {
        for (const [name, nodeIndex, tensorIndex] of node) {
          const k = key(name, nodeIndex, tensorIndex);
          this.reads.set(k, (this.reads.get(k) ?? 0) + 1);
          this.readers.set(k, layer);
        }
      }
    }
    for (const [name, nodeIndex, tensorIndex] of this.config.outputLayers) {
      const k = key(name, nodeIndex, tensorIndex);
      this.reads.set(k, (this.reads.get(k) ?? 0) + 1);
    }
  }

  run(): { inputs: ValueInfoMessage[]; outputs: ValueInfoMessage[] } {
    const inputs = this.config.inputLayers.map(([name, nodeIndex, tensorIndex], i) =>
      this.input(name, key(name, nodeIndex, tensorIndex), this.model.inputs[i] as tfl.SymbolicTensor),
    );
    for (const layer of this.config.layers) {
      if (layer.className === 'InputLayer') continue;
      layer.inboundNodes.forEach((node, call) => {
        const k = key(layer.name, call);
        if (this.values.has(k)) return; // written by a fold into the layer before
        const args = node.map(([name, nodeIndex, tensorIndex]) => {
          const value = this.values.get(key(name, nodeIndex, tensorIndex));
          if (!value) throw unsupported(layer, `input ${name} (multi-output layers)`);
          return value;
        });
        this.values.set(k, this.convert(layer, call, args));
      });
    }
    const outputs = this.config.outputLayers.map(([name, nodeIndex, tensorIndex], i) =>
      this.output(name, this.values.get(key(name, nodeIndex, tensorIndex)) as Value, this.model.outputs[i]),
    );
    return { inputs, outputs };
  }

  private input(name: string, k: string, tensor: tfl.SymbolicTensor): ValueInfoMessage {
    const shape = tensor.shape;
    const onnxName = this.graph.unique(name);
    const symbols = this.config.inputLayers.length > 1 ? (s: string) => `${name}_${s}` : (s: string) => s;
    if (shape.length === 4) {
      const internal = this.graph.node(
        'Transpose',
        [onnxName],
        [this.graph.unique(`${name}_nchw`)],
        [attr.ints('perm', TO_KERAS)],
      );
      this.values.set(k, { name: internal, shape, nonNegative: false });
      const dims = shape.map(
        (d, i) => d ?? (i === 0 ? 'batch' : symbols(['batch', 'height', 'width', 'channels'][i] as string)),
      );
      return tensorInfo(onnxName, dims, 'NHWC (channels last), as the TensorFlow.js model takes it');
    }
    if (shape.length !== 2) {
      throw new OnnxExportError(
        `exportOnnx: input ${name} has rank ${shape.length}; only images (rank 4) and vectors (rank 2) export`,
      );
    }
    this.values.set(k, { name: onnxName, shape, nonNegative: false });
    return tensorInfo(
      onnxName,
      shape.map((d, i) => d ?? (i === 0 ? 'batch' : symbols(`d${i}`))),
    );
  }

  private output(name: string, value: Value, tensor: tfl.SymbolicTensor | undefined): ValueInfoMessage {
    const shape = tensor?.shape ?? value.shape;
    const dims = shape.map((d, i) => d ?? (i === 0 ? 'batch' : `${name}_d${i}`));
    const source = this.written(value);
    if (shape.length === 4) {
      // Back to channels last under the layer's name.
      const internal = source === name ? this.graph.unique(`${name}_nchw`) : source;
      if (internal !== source) this.graph.rename(source, internal);
      const out = source === name ? name : this.graph.unique(name);
      this.graph.node('Transpose', [internal], [out], [attr.ints('perm', FROM_KERAS)], `${name}_to_nhwc`);
      return tensorInfo(out, dims, 'NHWC (channels last), as the TensorFlow.js model returns it');
    }
    if (source === name) return tensorInfo(name, dims);
    const out = this.graph.unique(name);
    this.graph.node('Identity', [source], [out]);
    return tensorInfo(out, dims);
  }

  /** The ONNX name of a value, writing a pending zero padding as a Pad node if it has none yet. */
  private written(value: Value): string {
    if (value.name !== undefined) return value.name;
    const pad = value.pad as PendingPad;
    if (pad.written === undefined) {
      const [top, bottom, left, right] = pad.pads;
      const pads = this.graph.int64s(
        `${pad.layer}/pads`,
        this.internalPads(value.shape.length, [top, left], [bottom, right]),
      );
      pad.written = this.graph.node(
        'Pad',
        [this.written(pad.source), pads],
        [this.graph.unique(pad.layer)],
        [attr.string('mode', 'constant')],
      );
    }
    return pad.written;
  }

  /** ONNX `pads` for a rank-4 internal tensor padded on its two spatial (Keras H, W) axes. */
  private internalPads(rank: number, begin: [number, number], end: [number, number]): number[] {
    if (rank !== 4) throw new OnnxExportError(`exportOnnx: zero padding of a rank-${rank} tensor`);
    return [0, 0, begin[0], begin[1], 0, 0, end[0], end[1]];
  }

  private layerOf(layer: LayerConfig): tfl.layers.Layer {
    return this.model.getLayer(layer.name);
  }

  private shapeOf(layer: LayerConfig, call: number): Shape {
    const tfLayer = this.layerOf(layer);
    const output = (tfLayer.inboundNodes.length > 1 ? tfLayer.getOutputAt(call) : tfLayer.output) as
      | tfl.SymbolicTensor
      | tfl.SymbolicTensor[];
    if (Array.isArray(output)) throw unsupported(layer, 'several outputs');
    return output.shape;
  }

  private outputName(layer: LayerConfig, call: number, suffix = ''): string {
    return this.graph.unique(`${call === 0 ? layer.name : `${layer.name}_${call}`}${suffix}`);
  }

  private convert(layer: LayerConfig, call: number, inputs: Value[]): Value {
    const [input] = inputs as [Value];
    if (INFERENCE_IDENTITY.has(layer.className)) return input;
    switch (layer.className) {
      case 'Conv2D':
        return this.conv2d(layer, call, input);
      case 'BatchNormalization':
      case 'ResNetBatchNormReLU':
        return this.batchNorm(layer, call, input);
      case 'Activation':
        return this.activation(layer, call, input, String(layer.config.activation), layer.name);
      case 'ReLU':
      case 'LeakyReLU':
      case 'Softmax':
        return this.activationLayer(layer, call, input);
      case 'Dense':
        return this.dense(layer, call, input);
      case 'ZeroPadding2D':
        return this.zeroPadding(layer, call, input);
      case 'MaxPooling2D':
        return this.pool(layer, call, input, 'MaxPool');
      case 'AveragePooling2D':
        return this.pool(layer, call, input, 'AveragePool');
      case 'GlobalAveragePooling2D':
        return this.globalPool(layer, call, input, 'GlobalAveragePool');
      case 'GlobalMaxPooling2D':
        return this.globalPool(layer, call, input, 'GlobalMaxPool');
      case 'Flatten':
        return this.flatten(layer, call, input);
      case 'Permute':
        return this.permute(layer, call, input);
      case 'Add':
        return this.add(layer, call, inputs);
      case 'Concatenate':
        return this.concatenate(layer, call, inputs);
      case 'ResNetSubsampleZeroPad':
        return this.subsampleZeroPad(layer, call, input);
      case 'ResNetLocalResponseNorm':
        return this.localResponseNorm(layer, call, input);
      default:
        throw new OnnxExportError(
          `exportOnnx: layer ${layer.name} (class ${layer.className}) is not supported; the exporter converts Conv2D, Dense, BatchNormalization, Activation, ReLU, LeakyReLU, Softmax, Add, Concatenate, ZeroPadding2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Flatten, Permute, Dropout and resnet-core's ResNetBatchNormReLU, ResNetSubsampleZeroPad and ResNetLocalResponseNorm`,
          layer.name,
          layer.className,
        );
    }
  }

  private channelsLast(layer: LayerConfig): void {
    const format = layer.config.dataFormat;
    if (format !== undefined && format !== 'channelsLast')
      throw unsupported(layer, `dataFormat ${String(format)}`);
  }

  private rank4(layer: LayerConfig, value: Value): void {
    if (value.shape.length !== 4) throw unsupported(layer, `a rank-${value.shape.length} input`);
  }

  /** The batch norm a convolution's output goes to and nothing else, if it can be folded in. */
  private foldableBatchNorm(layer: LayerConfig, call: number): LayerConfig | undefined {
    if (call !== 0 || layer.inboundNodes.length !== 1 || layer.config.activation !== 'linear')
      return undefined;
    const k = key(layer.name, 0);
    const bn = this.readers.get(k);
    if (this.reads.get(k) !== 1 || !bn || !BATCH_NORMS.has(bn.className)) return undefined;
    if (bn.inboundNodes.length !== 1 || bn.inboundNodes[0]?.length !== 1) return undefined;
    return bn.config.axis === -1 || bn.config.axis === 3 ? bn : undefined;
  }

  private conv2d(layer: LayerConfig, call: number, input: Value): Value {
    this.channelsLast(layer);
    this.rank4(layer, input);
    const c = layer.config;
    const kernelSize = pair(c.kernelSize, 'kernelSize', layer);
    const strides = pair(c.strides ?? 1, 'strides', layer);
    const dilations = pair(c.dilationRate ?? 1, 'dilationRate', layer);
    const [kernel, bias] = this.layerOf(layer).getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
    const [kh, kw, cin, cout] = kernel.shape;

    const attributes = [
      attr.ints('kernel_shape', kernelSize),
      attr.ints('strides', strides),
      attr.ints('dilations', dilations),
      attr.int('group', 1),
    ];
    // [top, left, bottom, right] (ONNX order), or TensorFlow's 'same' left to the runtime.
    let pads: number[] | undefined = [0, 0, 0, 0];
    if (c.padding === 'same') {
      const [height, width] = [input.shape[1], input.shape[2]];
      if (height == null || width == null) {
        if (strides[0] === 1 && strides[1] === 1) {
          const [top, bottom] = samePadding(1, kh, 1, dilations[0]);
          const [left, right] = samePadding(1, kw, 1, dilations[1]);
          pads = [top, left, bottom, right];
        } else {
          pads = undefined;
        }
      } else {
        const [top, bottom] = samePadding(height, kh, strides[0], dilations[0]);
        const [left, right] = samePadding(width, kw, strides[1], dilations[1]);
        pads = [top, left, bottom, right];
      }
    } else if (c.padding !== 'valid') {
      throw unsupported(layer, `padding ${String(c.padding)}`);
    }
    let x: string;
    if (input.pad && pads) {
      const [top, bottom, left, right] = input.pad.pads;
      pads = [
        (pads[0] as number) + top,
        (pads[1] as number) + left,
        (pads[2] as number) + bottom,
        (pads[3] as number) + right,
      ];
      this.foldedPaddings.add(input.pad.layer);
      x = this.written(input.pad.source);
    } else {
      x = this.written(input);
    }
    attributes.push(pads ? attr.ints('pads', pads) : attr.string('auto_pad', 'SAME_UPPER'));

    const bn = this.foldableBatchNorm(layer, call);
    const affine = bn ? batchNormAffine(this.model.getLayer(bn.name)) : undefined;
    // HWIO → OIHW, each output channel scaled by the batch norm.
    const source = kernel.dataSync() as Float32Array;
    const weights = new Float32Array(source.length);
    for (let o = 0; o < cout; o++) {
      const scale = affine ? (affine.scale[o] as number) : 1;
      for (let i = 0; i < cin; i++) {
        for (let h = 0; h < kh; h++) {
          for (let w = 0; w < kw; w++) {
            weights[((o * cin + i) * kh + h) * kw + w] =
              (source[((h * kw + w) * cin + i) * cout + o] as number) * scale;
          }
        }
      }
    }
    const inputs = [x, this.graph.floats(`${layer.name}/kernel`, [cout, cin, kh, kw], weights)];
    const biasValues = bias?.dataSync() as Float32Array | undefined;
    if (affine) {
      const folded = new Float64Array(cout);
      for (let o = 0; o < cout; o++) {
        folded[o] = (biasValues?.[o] ?? 0) * (affine.scale[o] as number) + (affine.shift[o] as number);
      }
      inputs.push(this.graph.floats(`${layer.name}/bias`, [cout], folded));
    } else if (biasValues) {
      inputs.push(this.graph.floats(`${layer.name}/bias`, [cout], biasValues));
    }
    const activation = String(c.activation ?? 'linear');
    const convName = this.outputName(layer, call, activation === 'linear' ? '' : '_preact');
    const convOut = this.graph.node('Conv', inputs, [convName], attributes, layer.name);
    const shape = this.shapeOf(layer, call);
    if (!bn) {
      return this.applyActivation(
        layer,
        activation,
        { name: convOut, shape, nonNegative: false },
        layer.name,
        call,
      );
    }
    this.foldedBatchNorms.push({ conv: layer.name, batchNorm: bn.name });
    let out: Value = { name: convOut, shape, nonNegative: false };
    if (bn.className === 'ResNetBatchNormReLU') out = this.applyActivation(bn, 'relu', out, bn.name, 0);
    this.values.set(key(bn.name, 0), out);
    return out;
  }

  private batchNorm(layer: LayerConfig, call: number, input: Value): Value {
    const rank = input.shape.length;
    const axis = Number(layer.config.axis ?? -1);
    if ((rank !== 4 && rank !== 2) || (axis < 0 ? axis + rank : axis) !== rank - 1) {
      throw unsupported(
        layer,
        `axis ${axis} of a rank-${rank} input (only the channel axis of images or vectors)`,
      );
    }
    const { params } = batchNormAffine(this.layerOf(layer));
    const channels = params.mean.length;
    const inputs = [
      this.written(input),
      this.graph.floats(`${layer.name}/gamma`, [channels], params.gamma),
      this.graph.floats(`${layer.name}/beta`, [channels], params.beta),
      this.graph.floats(`${layer.name}/moving_mean`, [channels], params.mean),
      this.graph.floats(`${layer.name}/moving_variance`, [channels], params.variance),
    ];
    const relu = layer.className === 'ResNetBatchNormReLU';
    const name = this.outputName(layer, call, relu ? '_norm' : '');
    this.graph.node(
      'BatchNormalization',
      inputs,
      [name],
      [attr.float('epsilon', params.epsilon)],
      layer.name,
    );
    this.batchNorms.push(layer.name);
    const out: Value = { name, shape: this.shapeOf(layer, call), nonNegative: false };
    return relu ? this.applyActivation(layer, 'relu', out, layer.name, call) : out;
  }

  private activation(
    layer: LayerConfig,
    call: number,
    input: Value,
    activation: string,
    name: string,
  ): Value {
    return this.applyActivation(
      layer,
      activation,
      { ...input, name: this.written(input), pad: undefined },
      name,
      call,
    );
  }

  /**
   * `activation` applied to `input` (already written), the result named after `name` (and `call`).
   * The internal channel axis is 1 for images and vectors alike, which is where Keras's softmax goes.
   */
  private applyActivation(
    layer: LayerConfig,
    activation: string,
    input: Value,
    name: string,
    call: number,
  ): Value {
    const x = input.name as string;
    if (activation === 'linear') return input;
    const out = this.graph.unique(call === 0 ? name : `${name}_${call}`);
    const node = (op: string, attributes: ReturnType<typeof attr.int>[] = [], extra: string[] = []) =>
      this.graph.node(op, [x, ...extra], [out], attributes, out);
    switch (activation) {
      case 'relu':
        node('Relu');
        return { name: out, shape: input.shape, nonNegative: true };
      case 'relu6':
        node(
          'Clip',
          [],
          [
            this.graph.floats(`${out}/min`, [], new Float32Array([0])),
            this.graph.floats(`${out}/max`, [], new Float32Array([6])),
          ],
        );
        return { name: out, shape: input.shape, nonNegative: true };
      case 'sigmoid':
        node('Sigmoid');
        return { name: out, shape: input.shape, nonNegative: true };
      case 'softmax':
        node('Softmax', [attr.int('axis', 1)]);
        return { name: out, shape: input.shape, nonNegative: true };
      case 'tanh':
        node('Tanh');
        break;
      case 'elu':
        node('Elu', [attr.float('alpha', 1)]);
        break;
      case 'selu':
        node('Selu');
        break;
      case 'softplus':
        node('Softplus');
        return { name: out, shape: input.shape, nonNegative: true };
      default:
        throw unsupported(layer, `activation ${activation}`);
    }
    return { name: out, shape: input.shape, nonNegative: false };
  }

  private activationLayer(layer: LayerConfig, call: number, input: Value): Value {
    const c = layer.config;
    const x = this.written(input);
    const out = this.outputName(layer, call);
    const shape = this.shapeOf(layer, call);
    if (layer.className === 'ReLU') {
      if (c.maxValue == null) {
        this.graph.node('Relu', [x], [out]);
      } else {
        const min = this.graph.floats(`${layer.name}/min`, [], new Float32Array([0]));
        const max = this.graph.floats(`${layer.name}/max`, [], new Float32Array([Number(c.maxValue)]));
        this.graph.node('Clip', [x, min, max], [out]);
      }
      return { name: out, shape, nonNegative: true };
    }
    if (layer.className === 'LeakyReLU') {
      this.graph.node('LeakyRelu', [x], [out], [attr.float('alpha', Number(c.alpha ?? 0.3))]);
      return { name: out, shape, nonNegative: false };
    }
    const rank = input.shape.length;
    const axis = Number(c.axis ?? -1);
    const kerasAxis = axis < 0 ? axis + rank : axis;
    this.graph.node(
      'Softmax',
      [x],
      [out],
      [attr.int('axis', rank === 4 ? (FROM_KERAS[kerasAxis] as number) : kerasAxis)],
    );
    return { name: out, shape, nonNegative: true };
  }

  private dense(layer: LayerConfig, call: number, input: Value): Value {
    if (input.shape.length !== 2)
      throw unsupported(layer, `a rank-${input.shape.length} input (Dense on vectors only)`);
    const [kernel, bias] = this.layerOf(layer).getWeights() as [tf.Tensor2D, tf.Tensor1D | undefined];
    const [inUnits, units] = kernel.shape;
    const inputs = [
      this.written(input),
      this.graph.floats(`${layer.name}/kernel`, [inUnits, units], kernel.dataSync() as Float32Array),
    ];
    if (bias) inputs.push(this.graph.floats(`${layer.name}/bias`, [units], bias.dataSync() as Float32Array));
    const activation = String(layer.config.activation ?? 'linear');
    const name = this.outputName(layer, call, activation === 'linear' ? '' : '_logits');
    this.graph.node('Gemm', inputs, [name], [], layer.name);
    return this.applyActivation(
      layer,
      activation,
      { name, shape: this.shapeOf(layer, call), nonNegative: false },
      layer.name,
      call,
    );
  }

  private zeroPadding(layer: LayerConfig, call: number, input: Value): Value {
    this.channelsLast(layer);
    this.rank4(layer, input);
    const padding = layer.config.padding as [[number, number], [number, number]];
    const [top, bottom] = pair(padding?.[0], 'padding', layer);
    const [left, right] = pair(padding?.[1], 'padding', layer);
    const inner = input.pad && input.pad.written === undefined ? input.pad : undefined;
    const pads: [number, number, number, number] = inner
      ? [inner.pads[0] + top, inner.pads[1] + bottom, inner.pads[2] + left, inner.pads[3] + right]
      : [top, bottom, left, right];
    const name = call === 0 ? layer.name : `${layer.name}_${call}`;
    return {
      shape: this.shapeOf(layer, call),
      nonNegative: input.nonNegative,
      pad: { source: inner ? inner.source : input, pads, layer: name },
    };
  }

  private pool(layer: LayerConfig, call: number, input: Value, op: 'MaxPool' | 'AveragePool'): Value {
    this.channelsLast(layer);
    this.rank4(layer, input);
    const c = layer.config;
    const kernel = pair(c.poolSize, 'poolSize', layer);
    const strides = pair(c.strides ?? c.poolSize, 'strides', layer);
    const attributes = [attr.ints('kernel_shape', kernel), attr.ints('strides', strides)];
    let x: string;
    if (c.padding === 'same') {
      x = this.written(input);
      const [height, width] = [input.shape[1], input.shape[2]];
      if (height == null || width == null) {
        attributes.push(attr.string('auto_pad', 'SAME_UPPER'));
      } else {
        const [top, bottom] = samePadding(height, kernel[0], strides[0], 1);
        const [left, right] = samePadding(width, kernel[1], strides[1], 1);
        attributes.push(attr.ints('pads', [top, left, bottom, right]));
      }
      // TensorFlow's 'same' average leaves the padding out of the count.
      if (op === 'AveragePool') attributes.push(attr.int('count_include_pad', 0));
    } else if (c.padding === 'valid') {
      const pad = input.pad;
      // Zero padding becomes the pool's pads when that is exact: averages count the zeros
      // (count_include_pad), and a max over values >= 0 is the same with or without zeros.
      const absorbs =
        pad !== undefined &&
        (op === 'AveragePool' || pad.source.nonNegative) &&
        pad.pads[0] < kernel[0] &&
        pad.pads[1] < kernel[0] &&
        pad.pads[2] < kernel[1] &&
        pad.pads[3] < kernel[1];
      if (pad && absorbs) {
        const [top, bottom, left, right] = pad.pads;
        attributes.push(attr.ints('pads', [top, left, bottom, right]));
        if (op === 'AveragePool') attributes.push(attr.int('count_include_pad', 1));
        this.foldedPaddings.add(pad.layer);
        x = this.written(pad.source);
      } else {
        x = this.written(input);
      }
    } else {
      throw unsupported(layer, `padding ${String(c.padding)}`);
    }
    const outputs = [this.outputName(layer, call)];
    // onnxruntime's PadFusion (1.30) folds a zero Pad into the MaxPool after it as if MaxPool
    // padded with zeros (it ignores padding, -inf): wrong wherever a border window is all negative.
    // It leaves a MaxPool that has its optional Indices output alone, so one reading a Pad gets it.
    if (op === 'MaxPool' && this.graph.nodes.some((n) => n.op_type === 'Pad' && n.output[0] === x)) {
      outputs.push(this.outputName(layer, call, '_indices'));
    }
    const name = this.graph.node(op, [x], outputs, attributes, layer.name);
    return { name, shape: this.shapeOf(layer, call), nonNegative: input.nonNegative };
  }

  private globalPool(
    layer: LayerConfig,
    call: number,
    input: Value,
    op: 'GlobalAveragePool' | 'GlobalMaxPool',
  ): Value {
    this.channelsLast(layer);
    this.rank4(layer, input);
    if (layer.config.keepDims === true) throw unsupported(layer, 'keepDims');
    const pooled = this.graph.node(
      op,
      [this.written(input)],
      [this.outputName(layer, call, '_pool')],
      [],
      layer.name,
    );
    const name = this.graph.node('Flatten', [pooled], [this.outputName(layer, call)], [attr.int('axis', 1)]);
    return { name, shape: this.shapeOf(layer, call), nonNegative: input.nonNegative };
  }

  private flatten(layer: LayerConfig, call: number, input: Value): Value {
    const rank = input.shape.length;
    if (rank === 2) return input;
    this.rank4(layer, input);
    this.channelsLast(layer);
    // Keras flattens channels last (h, w, c): back to that order first.
    const nhwc = this.graph.node(
      'Transpose',
      [this.written(input)],
      [this.outputName(layer, call, '_nhwc')],
      [attr.ints('perm', FROM_KERAS)],
    );
    const name = this.graph.node('Flatten', [nhwc], [this.outputName(layer, call)], [attr.int('axis', 1)]);
    return { name, shape: this.shapeOf(layer, call), nonNegative: input.nonNegative };
  }

  private permute(layer: LayerConfig, call: number, input: Value): Value {
    this.rank4(layer, input);
    const dims = layer.config.dims as number[];
    if (!Array.isArray(dims) || dims.length !== 3) throw unsupported(layer, `dims ${JSON.stringify(dims)}`);
    // Keras: out[j] = in[p[j]] on Keras axes; held channels first on both sides.
    const p = [0, ...dims];
    const perm = TO_KERAS.map((kerasAxis) => FROM_KERAS[p[kerasAxis] as number] as number);
    const name = this.graph.node(
      'Transpose',
      [this.written(input)],
      [this.outputName(layer, call)],
      [attr.ints('perm', perm)],
    );
    return { name, shape: this.shapeOf(layer, call), nonNegative: input.nonNegative };
  }

  private add(layer: LayerConfig, call: number, inputs: Value[]): Value {
    const names = inputs.map((v) => this.written(v));
    const name = this.graph.node(names.length === 2 ? 'Add' : 'Sum', names, [this.outputName(layer, call)]);
    return { name, shape: this.shapeOf(layer, call), nonNegative: inputs.every((v) => v.nonNegative) };
  }

  private concatenate(layer: LayerConfig, call: number, inputs: Value[]): Value {
    const rank = (inputs[0] as Value).shape.length;
    const axis = Number(layer.config.axis ?? -1);
    const kerasAxis = axis < 0 ? axis + rank : axis;
    if (rank !== 4 && rank !== 2) throw unsupported(layer, `a rank-${rank} input`);
    const name = this.graph.node(
      'Concat',
      inputs.map((v) => this.written(v)),
      [this.outputName(layer, call)],
      [attr.int('axis', rank === 4 ? (FROM_KERAS[kerasAxis] as number) : kerasAxis)],
    );
    return { name, shape: this.shapeOf(layer, call), nonNegative: inputs.every((v) => v.nonNegative) };
  }

  /** Option A shortcut: x[:, ::s, ::s, :] (a 1x1 average pool, as the layer computes it), channels zero-padded. */
  private subsampleZeroPad(layer: LayerConfig, call: number, input: Value): Value {
    this.rank4(layer, input);
    const strides = Number(layer.config.strides);
    const filters = Number(layer.config.filters);
    const channels = input.shape[3];
    if (channels == null) throw unsupported(layer, 'an input of unknown channels');
    const extra = filters - channels;
    let x = this.written(input);
    if (strides > 1) {
      x = this.graph.node(
        'AveragePool',
        [x],
        [this.outputName(layer, call, extra > 0 ? '_subsample' : '')],
        [attr.ints('kernel_shape', [1, 1]), attr.ints('strides', [strides, strides])],
      );
    }
    if (extra > 0) {
      const before = Math.floor(extra / 2);
      const pads = this.graph.int64s(`${layer.name}/pads`, [0, before, 0, 0, 0, extra - before, 0, 0]);
      x = this.graph.node(
        'Pad',
        [x, pads],
        [this.outputName(layer, call)],
        [attr.string('mode', 'constant')],
      );
    }
    return { name: x, shape: this.shapeOf(layer, call), nonNegative: input.nonNegative };
  }

  /** TensorFlow's LRN divides by (bias + alpha * sum)^beta, ONNX's by (bias + alpha / size * sum)^beta. */
  private localResponseNorm(layer: LayerConfig, call: number, input: Value): Value {
    this.rank4(layer, input);
    const c = layer.config;
    const size = 2 * Number(c.depthRadius ?? 2) + 1;
    const name = this.graph.node(
      'LRN',
      [this.written(input)],
      [this.outputName(layer, call)],
      [
        attr.int('size', size),
        attr.float('alpha', Number(c.alpha ?? 1e-4) * size),
        attr.float('beta', Number(c.beta ?? 0.75)),
        attr.float('bias', Number(c.bias ?? 2)),
      ],
    );
    return { name, shape: this.shapeOf(layer, call), nonNegative: input.nonNegative };
  }
}

/** The IR version that goes with an operator set (ONNX's versioning table). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function checkOptions(options: OnnxExportOptions): number {
  const opset = options.opset ?? ONNX_OPSETS.default;
  if (!Number.isInteger(opset) || opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max) {
    throw new OnnxExportError(
      `exportOnnx: opset must be an integer from ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got ${JSON.stringify(opset)}`,
    );
  }
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (typeof v !== 'string') {
      throw new OnnxExportError(
        `exportOnnx: metadata ${k} must be a string (JSON.stringify objects), got ${typeof v}`,
      );
    }
  }
  return opset;
}

/**
 * Converts a functional TensorFlow.js layers model — every `buildResNet` variant, `buildAlexNet`,
 * and models loaded back from a saved directory — into an ONNX model, with what was done.
 *
 * The graph input stays NHWC float32 `[batch, height, width, channels]` (batch symbolic), so it
 * takes the tensors the TensorFlow.js model takes; the graph transposes to NCHW once and runs
 * Conv (OIHW weights), Relu, MaxPool, GlobalAveragePool, Gemm, Softmax … there. Every batch norm
 * that reads a convolution (and only it) is folded into that convolution's weights and bias;
 * zero paddings are folded into the next Conv / pool's `pads` where that is exact. Inference
 * semantics: dropout is the identity, batch norms use their moving statistics.
 *
 * @throws OnnxExportError naming the layer and its class when a layer has no conversion.
 */
export function exportOnnxModel(model: tfl.LayersModel, options: OnnxExportOptions = {}): OnnxExport {
  const opset = checkOptions(options);
  const exporter = new Exporter(model);
  const { inputs, outputs } = exporter.run();
  const graph = exporter.graph;
  const irVersion = irVersionFor(opset);
  const folded = exporter.foldedBatchNorms.length;
  const message: ModelMessage = {
    ir_version: irVersion,
    opset_import: [{ domain: '', version: opset }],
    producer_name: '@resnet-ts/interop',
    ...(options.producerVersion ? { producer_version: options.producerVersion } : {}),
    doc_string:
      options.docString ??
      `TensorFlow.js model ${model.name}, exported for inference: input NHWC float32 [batch, height, width, channels] as in TensorFlow.js; ${folded} batch norm${folded === 1 ? '' : 's'} folded into convolutions.`,
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: inputs,
      output: outputs,
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([k, value]) => ({ key: k, value })),
  };
  const encoded = modelProto().encode(message).finish();
  const operators: Record<string, number> = {};
  for (const node of graph.nodes) operators[node.op_type] = (operators[node.op_type] ?? 0) + 1;
  const describe = (info: ValueInfoMessage): OnnxValueDescription => ({
    name: info.name,
    shape: info.type.tensor_type.shape.dim.map((d) => d.dim_value ?? (d.dim_param as string)),
  });
  return {
    bytes: new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength),
    opset,
    irVersion,
    inputs: inputs.map(describe),
    outputs: outputs.map(describe),
    foldedBatchNorms: exporter.foldedBatchNorms,
    batchNorms: exporter.batchNorms,
    foldedPaddings: [...exporter.foldedPaddings],
    operators,
  };
}

/**
 * The ONNX bytes of a TensorFlow.js layers model ({@link exportOnnxModel} without the report).
 *
 * @example
 * const bytes = exportOnnx(buildResNet({ depth: 20, numClasses: 10 }), { metadata: { labels: '["cat","dog"]' } });
 * await writeFile('resnet20.onnx', bytes);
 */
export function exportOnnx(model: tfl.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  return exportOnnxModel(model, options).bytes;
}

/** What an ONNX file declares: versions, producer, metadata, graph inputs and outputs, operators. */
export interface OnnxDescription {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  graphName: string;
  metadata: Record<string, string>;
  inputs: OnnxValueDescription[];
  outputs: OnnxValueDescription[];
  operators: Record<string, number>;
  initializers: number;
}

/** Reads an ONNX model's header: versions, metadata_props, inputs, outputs and operator counts. */
export function describeOnnx(bytes: Uint8Array): OnnxDescription {
  const type = modelProto();
  let decoded: ModelMessage;
  try {
    decoded = type.toObject(type.decode(bytes), { longs: Number, defaults: true }) as ModelMessage;
  } catch (error) {
    throw new OnnxExportError(`describeOnnx: not an ONNX model (${(error as Error).message})`);
  }
  const describe = (info: ValueInfoMessage): OnnxValueDescription => ({
    name: info.name,
    shape: (info.type?.tensor_type?.shape?.dim ?? []).map((d) =>
      d.dim_param ? d.dim_param : Number(d.dim_value),
    ),
  });
  const operators: Record<string, number> = {};
  for (const node of decoded.graph?.node ?? []) operators[node.op_type] = (operators[node.op_type] ?? 0) + 1;
  const opset = decoded.opset_import.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return {
    irVersion: Number(decoded.ir_version),
    opset: Number(opset?.version ?? 0),
    producerName: decoded.producer_name ?? '',
    producerVersion: decoded.producer_version ?? '',
    graphName: decoded.graph?.name ?? '',
    metadata: Object.fromEntries(decoded.metadata_props.map((p) => [p.key, p.value])),
    inputs: (decoded.graph?.input ?? []).map(describe),
    outputs: (decoded.graph?.output ?? []).map(describe),
    operators,
    initializers: decoded.graph?.initializer.length ?? 0,
  };
}
