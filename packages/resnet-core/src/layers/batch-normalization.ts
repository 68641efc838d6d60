import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  BATCH_NORM_RELU_TRAINING_GRAD_KERNEL,
  BATCH_NORM_RELU_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
} from '../kernel-names';

for (const [kernelName, gradKernel, withOffset] of [
  [BATCH_NORM_TRAINING_KERNEL, BATCH_NORM_TRAINING_GRAD_KERNEL, false],
  [BATCH_NORM_RELU_TRAINING_KERNEL, BATCH_NORM_RELU_TRAINING_GRAD_KERNEL, true],
] as const) {
  tf.registerGradient({
    kernelName,
    // The fused ReLU's mask is recomputed from x, scale and offset: its output is never saved.
    inputsToSave: withOffset ? ['x', 'scale', 'offset'] : ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      // Only the normalised output reaches the loss; mean and variance feed the moving averages.
      const dOut = Array.isArray(dy) ? dy[0]! : dy;
      const [x, scale, ...rest] = saved;
      const [offset, mean, variance] = withOffset ? rest : [undefined, ...rest];
      const inputs: tf.NamedTensorMap = { dy: dOut, x: x!, scale: scale!, mean: mean!, variance: variance! };
      if (offset) inputs.offset = offset;
      const [dx, dScale, dOffset] = tf.engine().runKernel(gradKernel, inputs, attrs) as tf.Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
}

/** The stock tfjs-layers class (not exported by name from tfjs-layers' public API). */
const StockBatchNormalization = tfl.layers.batchNormalization().constructor as new (
  args?: Parameters<typeof tfl.layers.batchNormalization>[0],
) => ReturnType<typeof tfl.layers.batchNormalization>;

/** The private state of the stock layer that the fused path reads and updates. */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

type Kwargs = Parameters<InstanceType<typeof StockBatchNormalization>['call']>[1];

/**
 * tfjs-layers' BatchNormalization (same class name, config and weights, so model files stay
 * Keras-compatible) that, in training on a backend with `ResNetBatchNormTraining`, runs one fused
 * kernel instead of `moments` + `batchNorm` (about 4 tensor ops forward and 15 backward). On
 * every other backend, and in inference, it is the stock layer.
 *
 * A frozen layer (`trainable = false`) runs in inference mode also when the model trains, as in
 * Keras: it normalises with its moving statistics and leaves them as they are (the stock tfjs-layers
 * layer would normalise with the batch's statistics and update them). So neither the fused
 * training kernels nor a backend's own ones run for it, only the inference `FusedBatchNorm`.
 */
export class BatchNormalization extends StockBatchNormalization {
  static readonly className: string = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const args = this.modeOf(kwargs);
    if (!this.canFuse(x, args, BATCH_NORM_TRAINING_KERNEL)) return super.call(inputs, args);
    return this.trainFused(x, BATCH_NORM_TRAINING_KERNEL);
  }

  /** The call's arguments with `training` off when the layer is frozen (Keras's rule for batch norm). */
  protected modeOf(kwargs: Kwargs): Kwargs {
    return this.trainable || !kwargs?.training ? kwargs : { ...kwargs, training: false };
  }

  /** Whether `kernel` can run this call: training, channels last, float32, and the backend has it. */
  protected canFuse(x: tf.Tensor, kwargs: Kwargs, kernel: string): boolean {
    const state = this as unknown as BatchNormState;
    const axis = state.axis >= 0 ? state.axis : state.axis + x.rank;
    return (
      kwargs.training === true &&
      axis === x.rank - 1 &&
      state.center &&
      state.scale &&
      x.dtype === 'float32' &&
      tf.getKernel(kernel, tf.getBackend()) !== undefined
    );
  }

  /** Normalises with the batch's statistics in one kernel and updates the moving averages. */
  protected trainFused(x: tf.Tensor, kernel: string): tf.Tensor {
    const state = this as unknown as BatchNormState;
    return tf.tidy(() => {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          kernel,
          { x, scale: state.gamma.read(), offset: state.beta.read() },
          { varianceEpsilon: state.epsilon },
        ) as tf.Tensor[];
      // Moving averages exactly as tfjs-layers updates them.
      const decay = 1 - state.momentum;
      for (const [variable, value] of [
        [state.movingMean, mean!],
        [state.movingVariance, variance!],
      ] as const) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), decay)));
        });
      }
      return y!;
    });
  }
}

/**
 * Batch norm followed by a ReLU as one layer (what `fuseBatchNormRelu` builds): the same config and
 * weights as BatchNormalization. In training on a backend with `ResNetBatchNormReluTraining` it is
 * one kernel each way, so neither the batch norm's output nor the ReLU's gradient is written out;
 * elsewhere, in inference, and when frozen, it is the batch norm (frozen: in inference mode)
 * followed by `tf.relu`.
 */
export class BatchNormReLU extends BatchNormalization {
  static override readonly className: string = 'ResNetBatchNormReLU';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const args = this.modeOf(kwargs);
    if (this.canFuse(x, args, BATCH_NORM_RELU_TRAINING_KERNEL)) {
      return this.trainFused(x, BATCH_NORM_RELU_TRAINING_KERNEL);
    }
    return tf.tidy(() => tf.relu(super.call(inputs, args) as tf.Tensor));
  }
}

// Models loaded from files get these classes too, so resumed training takes the fused path.
for (const layer of [BatchNormalization, BatchNormReLU]) {
  tf.serialization.SerializationMap.register(
    layer as unknown as tf.serialization.SerializableConstructor<BatchNormalization>,
  );
}
