import {
  engine,
  type GradConfig,
  getBackend,
  getGradient,
  type NamedAttrMap,
  registerGradient,
  type Tensor,
} from '@tensorflow/tfjs-core';

/** Input name → function computing that input's gradient (tfjs's NamedGradientMap, not exported). */
type NamedGradientMap = ReturnType<GradConfig['gradFunc']>;

/** A native gradient; undefined means "not for these inputs", and tfjs's own gradient runs. */
export type NativeGradient = (
  dy: Tensor,
  saved: Tensor[],
  attrs: NamedAttrMap,
) => NamedGradientMap | undefined;

const natives = new Map<string, NativeGradient>();
const installed = new Map<string, GradConfig>();

/** Declares a native gradient for `kernelName`, used while `onednn` is the active backend. */
export function defineNativeGradient(kernelName: string, gradient: NativeGradient): void {
  natives.set(kernelName, gradient);
}

/**
 * Gradients are registered globally by kernel name, not per backend, so each native gradient wraps
 * the registered one and defers to it on every other backend (and for inputs it does not handle).
 * Called from forward kernels rather than at import, so it wraps whatever tfjs-layers or tfjs
 * registered, whichever was imported last.
 */
export function ensureNativeGradients(): void {
  for (const [kernelName, native] of natives) {
    const current = getGradient(kernelName);
    if (!current || current === installed.get(kernelName)) continue;
    const original = current;
    const config: GradConfig = {
      ...original,
      // The native gradient kernels have no gradients of their own: while an outer tape records
      // this backward pass (a gradient of a gradient), tfjs's differentiable ops run instead.
      gradFunc: (dy, saved, attrs) =>
        (getBackend() === 'onednn' &&
          !Array.isArray(dy) &&
          engine().state.gradientDepth === 0 &&
          native(dy, saved, attrs)) ||
        original.gradFunc(dy, saved, attrs),
    };
    installed.set(kernelName, config);
    registerGradient(config);
  }
}
