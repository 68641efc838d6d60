import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * Training-mode batch norm as one kernel, for backends that implement it (such as
 * @resnet-ts/tfjs-backend-onednn). Inputs `x`, `scale`, `offset`; attr `varianceEpsilon`; outputs
 * the normalised `x` and the batch's per-channel mean and biased variance (over all axes but the
 * last), exactly what tfjs-layers computes with `moments` followed by `batchNorm`.
 */
export const BATCH_NORM_TRAINING_KERNEL = 'ResNetBatchNormTraining';
/** Its gradient: inputs `dy`, `x`, `scale`, `mean`, `variance`; outputs `dx`, `dScale`, `dOffset`. */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'ResNetBatchNormTrainingGrad';

tf.registerGradient({
  kernelName: BATCH_NORM_TRAINING_KERNEL,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dy, saved, attrs) => {
    // Only the normalised output reaches the loss; mean and variance feed the moving averages.
    const dOut = Array.isArray(dy) ? dy[0]! : dy;
    const [x, scale, mean, variance] = saved;
    const [dx, dScale, dOffset] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_GRAD_KERNEL,
        { dy: dOut, x: x!, scale: scale!, mean: mean!, variance: variance! },
        attrs,
      ) as tf.Tensor[];
    return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
  },
});

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
 */
export class BatchNormalization extends StockBatchNormalization {
  static readonly className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as BatchNormState;
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const axis = state.axis >= 0 ? state.axis : state.axis + x.rank;
    const fused =
      kwargs.training === true &&
      axis === x.rank - 1 &&
      state.center &&
      state.scale &&
      x.dtype === 'float32' &&
      tf.getKernel(BATCH_NORM_TRAINING_KERNEL, tf.getBackend()) !== undefined;
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAINING_KERNEL,
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

// Models loaded from files get this class too, so resumed training takes the fused path.
tf.serialization.SerializationMap.register(
  BatchNormalization as unknown as tf.serialization.SerializableConstructor<BatchNormalization>,
);
