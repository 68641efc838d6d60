import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FUSED_CONV2D_KERNEL } from '../kernel-names';

/** Activations the fused convolution applies (after the shortcut's addition, when it has one). */
export type FusedActivation = 'linear' | 'relu';

export interface FusedConv2DArgs {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  /** 'same' or 'valid', as Conv2D; with `explicitPadding`, must be 'valid'. */
  padding?: 'same' | 'valid';
  /** Zeros added around the input first, [[top, bottom], [left, right]] (a folded ZeroPadding2D). */
  explicitPadding?: [[number, number], [number, number]] | null;
  dilationRate?: number | [number, number];
  /** Default 'linear'. With a shortcut, applied to the sum. */
  activation?: FusedActivation;
  /** Default true. */
  useBias?: boolean;
  /** A second input, the residual shortcut, is added before the activation. Default false. */
  residual?: boolean;
  /** The shortcut is subsampled, x[:, ::s, ::s, :], before it is added (option A). Default 1. */
  shortcutStrides?: number;
  /** Zero channels [before, after] the shortcut's, so that it has `filters` channels (option A). */
  shortcutPadChannels?: [number, number];
  name?: string;
  trainable?: boolean;
}

const pair = (v: number | [number, number] | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`FusedConv2D ${name}: expected a positive integer, got ${v}`);
  return v;
}

function convLength(length: number | null, kernel: number, stride: number, dilation: number, same: boolean) {
  if (length == null) return null;
  if (same) return Math.ceil(length / stride);
  return Math.floor((length - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/**
 * A convolution with its bias, the residual addition that follows it, the shortcut's option-A
 * subsampling and zero channels, the zero padding before it and the ReLU after the addition, as
 * one layer: what `foldBatchNorm` puts in place of Conv2D (→ ZeroPadding2D before it) → Add (→
 * ReLU) chains, so that a backend with the `ResNetFusedConv2D` kernel computes a residual block's
 * last convolution, its addition and its ReLU in one pass over the activations. Elsewhere (and in
 * training) it runs the tfjs ops the original layers ran, in the same order, so its output is
 * the original's bit for bit. Weights: `kernel` (HWIO) and `bias`, as Conv2D's.
 */
export class FusedConv2D extends tfl.layers.Layer {
  static readonly className = 'ResNetFusedConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly explicitPadding: [[number, number], [number, number]] | null;
  readonly dilationRate: [number, number];
  readonly activation: FusedActivation;
  readonly useBias: boolean;
  readonly residual: boolean;
  readonly shortcutStrides: number;
  readonly shortcutPadChannels: [number, number];
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;

  constructor(args: FusedConv2DArgs) {
    super({ name: args.name, trainable: args.trainable ?? true });
    this.filters = positive('filters', args.filters);
    this.kernelSize = pair(args.kernelSize, 1);
    this.strides = pair(args.strides, 1);
    this.dilationRate = pair(args.dilationRate, 1);
    for (const [name, values] of [
      ['kernelSize', this.kernelSize],
      ['strides', this.strides],
      ['dilationRate', this.dilationRate],
    ] as const) {
      for (const v of values) positive(name, v);
    }
    this.padding = args.padding ?? 'valid';
    this.explicitPadding = args.explicitPadding
      ? [
          [args.explicitPadding[0][0], args.explicitPadding[0][1]],
          [args.explicitPadding[1][0], args.explicitPadding[1][1]],
        ]
      : null;
    if (this.explicitPadding && this.padding !== 'valid') {
      throw new Error(`FusedConv2D ${args.name}: explicitPadding needs padding 'valid'`);
    }
    this.activation = args.activation ?? 'linear';
    if (this.activation !== 'linear' && this.activation !== 'relu') {
      throw new Error(
        `FusedConv2D activation: expected 'linear' or 'relu', got ${JSON.stringify(this.activation)}`,
      );
    }
    this.useBias = args.useBias ?? true;
    this.residual = args.residual ?? false;
    this.shortcutStrides = positive('shortcutStrides', args.shortcutStrides ?? 1);
    this.shortcutPadChannels = args.shortcutPadChannels
      ? [args.shortcutPadChannels[0], args.shortcutPadChannels[1]]
      : [0, 0];
  }

  private shapes(
    inputShape: (number | null)[] | (number | null)[][],
  ): [(number | null)[], (number | null)[] | undefined] {
    const nested = Array.isArray(inputShape[0]);
    const shapes = (nested ? inputShape : [inputShape]) as (number | null)[][];
    if (shapes.length !== (this.residual ? 2 : 1)) {
      throw new Error(`${this.name}: expected ${this.residual ? 'an input and a shortcut' : 'one input'}`);
    }
    return [shapes[0]!, shapes[1]];
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const [x] = this.shapes(inputShape);
    const channels = x[3];
    if (channels == null) throw new Error(`${this.name}: the channel dimension must be known`);
    this.kernel = this.addWeight(
      'kernel',
      [...this.kernelSize, channels, this.filters],
      'float32',
      tfl.initializers.glorotUniform({}),
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] {
    const [x, shortcut] = this.shapes(inputShape);
    const [[top, bottom], [left, right]] = this.explicitPadding ?? [
      [0, 0],
      [0, 0],
    ];
    const same = this.padding === 'same';
    const height = x[1] == null ? null : x[1] + top + bottom;
    const width = x[2] == null ? null : x[2] + left + right;
    const out: (number | null)[] = [
      x[0] ?? null,
      convLength(height, this.kernelSize[0], this.strides[0], this.dilationRate[0], same),
      convLength(width, this.kernelSize[1], this.strides[1], this.dilationRate[1], same),
      this.filters,
    ];
    if (shortcut) {
      const sub = (d: number | null | undefined) => (d == null ? null : Math.ceil(d / this.shortcutStrides));
      const channels = (shortcut[3] ?? 0) + this.shortcutPadChannels[0] + this.shortcutPadChannels[1];
      const fits = [sub(shortcut[1]), sub(shortcut[2])].every(
        (d, i) => d == null || out[i + 1] == null || d === out[i + 1],
      );
      if (!fits || (shortcut[3] != null && channels !== this.filters)) {
        throw new Error(`${this.name}: a shortcut of shape [${shortcut}] does not fit the output [${out}]`);
      }
    }
    return out;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const x = list[0] as tf.Tensor4D;
      const shortcut = this.residual ? (list[1] as tf.Tensor4D) : undefined;
      const filter = this.kernel!.read() as tf.Tensor4D;
      const bias = this.bias?.read() as tf.Tensor1D | undefined;
      const native =
        kwargs?.training !== true &&
        x.dtype === 'float32' &&
        tf.getKernel(FUSED_CONV2D_KERNEL, tf.getBackend()) !== undefined;
      if (native) {
        const tensors: tf.NamedTensorMap = { x, filter };
        if (bias) tensors.bias = bias;
        if (shortcut) tensors.shortcut = shortcut;
        const pad = this.explicitPadding ? [[0, 0], ...this.explicitPadding, [0, 0]] : this.padding;
        return tf.engine().runKernel(FUSED_CONV2D_KERNEL, tensors, {
          strides: this.strides,
          pad,
          dilations: this.dilationRate,
          activation: this.activation,
          shortcutStrides: this.shortcutStrides,
          shortcutChannelsBefore: this.shortcutPadChannels[0],
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
      }
      return this.unfused(x, filter, bias, shortcut);
    });
  }

  /** The ops of the layers this one replaces: ZeroPadding2D, Conv2D, SubsampleZeroPad, Add, ReLU. */
  private unfused(
    x: tf.Tensor4D,
    filter: tf.Tensor4D,
    bias?: tf.Tensor1D,
    shortcut?: tf.Tensor4D,
  ): tf.Tensor {
    const padded = this.explicitPadding ? tf.pad(x, [[0, 0], ...this.explicitPadding, [0, 0]]) : x;
    const y = tf.fused.conv2d({
      x: padded,
      filter,
      strides: this.strides,
      pad: this.padding,
      dataFormat: 'NHWC',
      dilations: this.dilationRate,
      bias,
      activation: shortcut ? 'linear' : this.activation,
    });
    if (!shortcut) return y;
    let s: tf.Tensor4D = shortcut;
    if (this.shortcutStrides > 1) s = tf.avgPool(s, 1, this.shortcutStrides, 'valid');
    const [before, after] = this.shortcutPadChannels;
    if (before > 0 || after > 0) {
      s = tf.pad(s, [
        [0, 0],
        [0, 0],
        [0, 0],
        [before, after],
      ]);
    }
    const sum = tf.add(s, y);
    return this.activation === 'relu' ? tf.relu(sum) : sum;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      explicitPadding: this.explicitPadding,
      dilationRate: this.dilationRate,
      activation: this.activation,
      useBias: this.useBias,
      residual: this.residual,
      shortcutStrides: this.shortcutStrides,
      shortcutPadChannels: this.shortcutPadChannels,
    };
  }
}
tf.serialization.registerClass(FusedConv2D);
