import { SGD_UPDATE_KERNEL } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';

export type OptimizerConfig =
  | {
      name: 'sgd';
      momentum?: number;
      nesterov?: boolean;
      /** Decoupled (SGDW): each step multiplies decayed weights by (1 - lr·weightDecay). */
      weightDecay?: number;
      /** Decay 1-D parameters (batch-norm gamma/beta, biases) too. Default false. */
      decayAll?: boolean;
    }
  | {
      name: 'adam' | 'adamw';
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      /** adam: L2 added to the gradient; adamw: decoupled, scaled by the learning rate. */
      weightDecay?: number;
      decayAll?: boolean;
    };

const fusedSgd = () => tf.getKernel(SGD_UPDATE_KERNEL, tf.getBackend()) !== undefined;

export interface Parameter {
  name: string;
  variable: tf.Variable;
  /**
   * This parameter's learning rate is `lrMult` × the step's (default 1): a fine-tuned model's new
   * head can learn faster or slower than the pretrained body. Decoupled weight decay scales with it.
   */
  lrMult?: number;
}

export interface OptimizerState {
  /** Updates applied so far. */
  iterations: number;
  /** Slot tensors (momentum, moments) by `<parameter>/<slot>`. */
  slots: Record<string, tf.Tensor>;
}

/**
 * SGD (momentum, Nesterov, decoupled weight decay) and Adam/AdamW over named variables, with a
 * learning rate passed per step and state that can be saved and restored exactly.
 */
export class Optimizer {
  readonly config: OptimizerConfig;
  private readonly parameters: Parameter[];
  private readonly slots = new Map<string, tf.Variable>();
  private iterations = 0;

  constructor(config: OptimizerConfig, parameters: Parameter[]) {
    this.config = config;
    this.parameters = parameters;
  }

  /** Whether weight decay applies to a parameter: kernels always, 1-D parameters only if asked. */
  decays(parameter: Parameter): boolean {
    return (
      (this.config.weightDecay ?? 0) > 0 && (this.config.decayAll === true || parameter.variable.rank > 1)
    );
  }

  private slot(parameter: Parameter, name: string): tf.Variable {
    const key = `${parameter.name}/${name}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = tf.variable(tf.zerosLike(parameter.variable), false);
      this.slots.set(key, slot);
    }
    return slot;
  }

  /**
   * Applies one update at learning rate `baseLr` (times each parameter's `lrMult`); `gradients[i]`
   * belongs to `parameters[i]`.
   */
  apply(gradients: tf.Tensor[], baseLr: number): void {
    this.iterations++;
    const t = this.iterations;
    tf.tidy(() => {
      this.parameters.forEach((parameter, i) => {
        const gradient = gradients[i];
        if (!gradient) return;
        const lr = parameter.lrMult === undefined ? baseLr : baseLr * parameter.lrMult;
        const p = parameter.variable;
        const decay = this.decays(parameter) ? (this.config.weightDecay ?? 0) : 0;
        if (this.config.name === 'sgd') {
          const momentum = this.config.momentum ?? 0.9;
          if (fusedSgd() && gradient.dtype === 'float32') {
            // One native kernel instead of six tensor ops; rounds exactly like them.
            const velocity = momentum > 0 ? this.slot(parameter, 'momentum') : undefined;
            const inputs: tf.NamedTensorMap = velocity
              ? { param: p, grad: gradient, velocity }
              : { param: p, grad: gradient };
            const attrs = { lr, momentum, nesterov: this.config.nesterov === true, keep: 1 - lr * decay };
            const [param, newVelocity] = tf
              .engine()
              .runKernel(SGD_UPDATE_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
            if (velocity && newVelocity) velocity.assign(newVelocity);
            p.assign(param as tf.Tensor);
            return;
          }
          let direction: tf.Tensor = gradient;
          if (momentum > 0) {
            const v = this.slot(parameter, 'momentum');
            v.assign(tf.add(tf.mul(v, momentum), gradient));
            direction = this.config.nesterov ? tf.add(gradient, tf.mul(v, momentum)) : v;
          }
          const decayed = decay > 0 ? tf.mul(p, 1 - lr * decay) : p;
          p.assign(tf.sub(decayed, tf.mul(direction, lr)));
          return;
        }
        const beta1 = this.config.beta1 ?? 0.9;
        const beta2 = this.config.beta2 ?? 0.999;
        const epsilon = this.config.epsilon ?? 1e-8;
        const g = this.config.name === 'adam' && decay > 0 ? tf.add(gradient, tf.mul(p, decay)) : gradient;
        const m = this.slot(parameter, 'm');
        const v = this.slot(parameter, 'v');
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const stepSize = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        const update = tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), epsilon * Math.sqrt(1 - beta2 ** t)));
        const decayed = this.config.name === 'adamw' && decay > 0 ? tf.mul(p, 1 - lr * decay) : p;
        p.assign(tf.sub(decayed, update));
      });
    });
  }

  getState(): OptimizerState {
    return { iterations: this.iterations, slots: Object.fromEntries(this.slots) };
  }

  /** Restores saved state; slot shapes must match their parameters. */
  setState(state: OptimizerState): void {
    const byName = new Map(this.parameters.map((p) => [p.name, p]));
    for (const [key, value] of Object.entries(state.slots)) {
      const parameter = byName.get(key.slice(0, key.lastIndexOf('/')));
      if (!parameter || !tf.util.arraysEqual(parameter.variable.shape, value.shape)) {
        throw new RangeError(
          `optimizer state: slot ${key} ${JSON.stringify(value.shape)} matches no parameter`,
        );
      }
      const slot = this.slot(parameter, key.slice(key.lastIndexOf('/') + 1));
      slot.assign(value);
    }
    this.iterations = state.iterations;
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
    this.slots.clear();
  }
}
