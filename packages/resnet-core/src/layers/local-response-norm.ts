import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface LocalResponseNormArgs {
  /** Half-width of the channel window: n = 2 * depthRadius + 1. Krizhevsky et al.: n = 5 → 2. */
  depthRadius?: number;
  /** k in the paper. Default 2. */
  bias?: number;
  /** α in the paper (not divided by n, as in the paper and TensorFlow). Default 1e-4. */
  alpha?: number;
  /** β in the paper. Default 0.75. */
  beta?: number;
  name?: string;
}

/** Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3), serialisable. */
export class LocalResponseNorm extends tfl.layers.Layer {
  static readonly className = 'ResNetLocalResponseNorm';
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;

  constructor(args: LocalResponseNormArgs = {}) {
    super({ name: args.name });
    this.depthRadius = args.depthRadius ?? 2;
    this.bias = args.bias ?? 2;
    this.alpha = args.alpha ?? 1e-4;
    this.beta = args.beta ?? 0.75;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.localResponseNormalization(x, this.depthRadius, this.bias, this.alpha, this.beta);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      depthRadius: this.depthRadius,
      bias: this.bias,
      alpha: this.alpha,
      beta: this.beta,
    };
  }
}
tf.serialization.registerClass(LocalResponseNorm);
