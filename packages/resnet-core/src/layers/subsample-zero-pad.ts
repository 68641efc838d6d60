import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface SubsampleZeroPadArgs {
  /** Spatial subsampling: keeps every `strides`-th row and column (x[:, ::s, ::s, :]). */
  strides: number;
  /** Output channels; the extra channels are zeros, split evenly before and after. */
  filters: number;
  name?: string;
  trainable?: boolean;
}

type LayerShape = (number | null)[];

/**
 * Option A shortcut of He et al. (2015): parameter-free identity with subsampling and zero-padded
 * channels. A registered layer (tfjs has no Lambda), so models using it save and load.
 */
export class SubsampleZeroPad extends tfl.layers.Layer {
  static readonly className = 'ResNetSubsampleZeroPad';
  readonly strides: number;
  readonly filters: number;

  constructor(args: SubsampleZeroPadArgs) {
    super({ name: args.name, trainable: args.trainable ?? false });
    if (!Number.isInteger(args.strides) || args.strides < 1) {
      throw new Error(`SubsampleZeroPad strides: expected a positive integer, got ${args.strides}`);
    }
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new Error(`SubsampleZeroPad filters: expected a positive integer, got ${args.filters}`);
    }
    this.strides = args.strides;
    this.filters = args.filters;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as LayerShape;
    const [batch, height, width, channels] = shape;
    if (channels != null && channels > this.filters) {
      throw new Error(`${this.name}: input has ${channels} channels, more than the ${this.filters} filters`);
    }
    const sub = (d: number | null | undefined) => (d == null ? null : Math.ceil(d / this.strides));
    return [batch ?? null, sub(height), sub(width), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      // A 1x1 average pool with stride s is exactly x[:, ::s, ::s, :] and, unlike strided slice,
      // has a gradient in tfjs (and a fast kernel in every backend).
      if (this.strides > 1) x = tf.avgPool(x, 1, this.strides, 'valid');
      const extra = this.filters - (x.shape[3] ?? 0);
      if (extra > 0) {
        const before = Math.floor(extra / 2);
        x = tf.pad(x, [
          [0, 0],
          [0, 0],
          [0, 0],
          [before, extra - before],
        ]);
      }
      return x;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), strides: this.strides, filters: this.filters };
  }
}
tf.serialization.registerClass(SubsampleZeroPad);
