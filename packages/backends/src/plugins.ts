import type { NamedBackend, Precision } from './names';

/** An optional package behind a backend: what to load, the tfjs backend it registers, how to get it. */
export interface BackendPlugin {
  /** The package, loaded by name at run time (never a dependency of this package). */
  readonly module: string;
  /** The name it registers with TensorFlow.js (`tf.getBackend()` once active). */
  readonly backend: string;
  /** How to install or build it, for errors. */
  readonly install: string;
  /**
   * The precisions it offers beyond fp32, for errors naming where a precision exists before that
   * package is loaded; once loaded, its own `capabilities` are what counts.
   */
  readonly precisions?: readonly Precision[];
}

/** Optional packages behind each backend, and how to get them (`cpu` is built in). */
export const BACKEND_PLUGINS: Readonly<Record<Exclude<NamedBackend, 'cpu'>, BackendPlugin>> = {
  cuda: {
    module: '@resnet-ts/tfjs-backend-cuda',
    backend: 'cuda',
    install:
      "building it needs the CUDA toolkit's nvcc (CUDA_HOME or /usr/local/cuda), then npm rebuild @resnet-ts/tfjs-backend-cuda; running it needs an NVIDIA driver and GPU",
    precisions: ['fp32', 'tf32', 'bf16'],
  },
  'tensorflow-gpu': {
    module: '@tensorflow/tfjs-node-gpu',
    backend: 'tensorflow',
    install: 'npm install @tensorflow/tfjs-node-gpu (needs CUDA 11.2 and cuDNN 8.1; downloads libtensorflow)',
  },
  tensorflow: {
    module: '@tensorflow/tfjs-node',
    backend: 'tensorflow',
    install: 'npm install @tensorflow/tfjs-node (downloads libtensorflow at install time)',
  },
  onednn: {
    module: '@resnet-ts/tfjs-backend-onednn',
    backend: 'onednn',
    install: 'apt-get install libdnnl-dev, then npm rebuild @resnet-ts/tfjs-backend-onednn',
  },
  wasm: {
    module: '@tensorflow/tfjs-backend-wasm',
    backend: 'wasm',
    install: 'npm install @tensorflow/tfjs-backend-wasm (inference only: it cannot train convolutions)',
  },
};

/** What `auto` tries, fastest first; `wasm` is left out because it cannot train. */
export const AUTO_ORDER: readonly NamedBackend[] = ['cuda', 'tensorflow-gpu', 'onednn', 'tensorflow', 'cpu'];

/** The plugin behind a choice; undefined for `cpu` and for names that are none of ours. */
export function pluginOf(choice: string): BackendPlugin | undefined {
  return Object.hasOwn(BACKEND_PLUGINS, choice)
    ? BACKEND_PLUGINS[choice as keyof typeof BACKEND_PLUGINS]
    : undefined;
}

/**
 * The TensorFlow.js name of a backend choice: what `tf.getBackend()` says once it is active
 * (`tensorflow-gpu` registers as `tensorflow`; the others under their own name).
 */
export function backendName(choice: NamedBackend): string {
  return pluginOf(choice)?.backend ?? choice;
}

/**
 * Loads an optional package by name at run time. CommonJS builds (and jest) use `require`, since
 * `import()` inside CommonJS fails under VM sandboxes; ES module builds use `import()`.
 */
export function loadOptional(name: string): Promise<unknown> {
  // `module` exists only in CommonJS; bundlers rewrite `require` in ES modules, so test this instead.
  if (typeof module !== 'undefined' && typeof module.require === 'function') {
    return Promise.resolve().then(() => module.require(name));
  }
  return import(/* webpackIgnore: true */ name);
}
