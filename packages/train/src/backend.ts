import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type BACKENDS, ConfigError, type ConvLayout, type Precision } from './config';

export type BackendChoice = (typeof BACKENDS)[number];

const CUDA_MODULE = '@resnet-ts/tfjs-backend-cuda';

/** Optional packages behind each backend, and how to get them. */
const PLUGINS: Record<
  Exclude<BackendChoice, 'auto' | 'cpu'>,
  { module: string; backend: string; install: string }
> = {
  cuda: {
    module: CUDA_MODULE,
    backend: 'cuda',
    install:
      "building it needs the CUDA toolkit's nvcc (CUDA_HOME or /usr/local/cuda), then npm rebuild @resnet-ts/tfjs-backend-cuda; running it needs an NVIDIA driver and GPU",
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

/** Fastest first; `wasm` is left out of `auto` because it cannot train. */
const AUTO_ORDER: Exclude<BackendChoice, 'auto'>[] = [
  'cuda',
  'tensorflow-gpu',
  'onednn',
  'tensorflow',
  'cpu',
];

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

export class BackendError extends Error {
  override name = 'BackendError';
}

async function activate(choice: Exclude<BackendChoice, 'auto'>): Promise<string> {
  if (choice === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new BackendError('backend cpu: failed to initialise');
    return 'cpu';
  }
  const plugin = PLUGINS[choice];
  // Callers of the library may pass any string; name the choices rather than fail on undefined.
  if (plugin === undefined)
    throw new BackendError(
      `backend ${String(choice)}: unknown; expected one of auto, cpu, ${Object.keys(PLUGINS).join(', ')}`,
    );
  let loaded: { unavailableReason?: () => string | undefined };
  try {
    loaded = (await loadOptional(plugin.module)) as typeof loaded;
  } catch {
    throw new BackendError(`backend ${choice}: ${plugin.module} is not installed; ${plugin.install}`);
  }
  const reason = loaded.unavailableReason?.();
  if (reason) throw new BackendError(`backend ${choice}: ${reason}`);
  if (!(await tf.setBackend(plugin.backend).catch(() => false))) {
    throw new BackendError(
      `backend ${choice}: ${plugin.module} loaded but did not initialise; ${plugin.install}`,
    );
  }
  return plugin.backend;
}

/** `auto` found no backend faster than the pure-JS cpu one, and was told not to take that. */
export class NoFastBackendError extends BackendError {
  override name = 'NoFastBackendError';
  constructor(
    /** Why each faster backend did not load (one message per backend, as `useBackend` reports them). */
    readonly skipped: string[],
  ) {
    super(`no fast backend loaded: ${fastBackendFixes(skipped).join('; ')}`.replace(/\.*$/, ''));
  }
}

/**
 * Of the reasons faster backends did not load, those a user can act on here: oneDNN's (the fast CPU
 * path, on any machine), and CUDA's unless there is simply no GPU. The libtensorflow bindings are
 * not the fix (they download at install and are slower than oneDNN), so they are left out.
 */
function fastBackendFixes(skipped: string[]): string[] {
  const fixes = skipped.filter(
    (reason) =>
      reason.startsWith('backend onednn:') ||
      (reason.startsWith('backend cuda:') && !/no usable CUDA GPU|not installed/.test(reason)),
  );
  return fixes.length > 0 ? fixes : skipped;
}

/** Options of `useBackend`. */
export interface UseBackendOptions {
  /**
   * Whether `auto` may end on the pure-JS `cpu` backend (default true: fine for a few predictions).
   * Training passes false: there cpu is about three orders of magnitude slower than oneDNN, so
   * `auto` throws `NoFastBackendError` instead, and cpu trains only when named.
   */
  allowSlowCpu?: boolean;
}

/**
 * Activates a TensorFlow.js backend. `auto` takes the fastest that loads (CUDA, oneDNN, libtensorflow,
 * pure JS) and reports what it skipped and why; a named backend that cannot load is an error that
 * says how to install it.
 */
export async function useBackend(
  choice: BackendChoice,
  options: UseBackendOptions = {},
): Promise<{ backend: string; skipped: string[] }> {
  silenceNodeBanner();
  if (choice !== 'auto') return { backend: await activate(choice), skipped: [] };
  const skipped: string[] = [];
  for (const candidate of AUTO_ORDER) {
    if (candidate === 'cpu' && options.allowSlowCpu === false) throw new NoFastBackendError(skipped);
    try {
      return { backend: await activate(candidate), skipped };
    } catch (error) {
      skipped.push((error as Error).message);
    }
  }
  throw new BackendError(`no backend could be loaded: ${skipped.join('; ')}`);
}

/**
 * The one line an inference command prints when `auto` fell through to the pure-JS cpu backend:
 * that it did, and what would make it fast. `undefined` when a fast backend is active.
 */
export function slowBackendNotice(backend: string, skipped: string[]): string | undefined {
  if (backend !== 'cpu' || skipped.length === 0) return undefined;
  return `no fast backend loaded, running on the slow pure-JS cpu backend: ${fastBackendFixes(skipped).join('; ')}`.replace(
    /\.*$/,
    '',
  );
}

/**
 * tfjs's cpu backend tells Node users to install tfjs-node on its first use: the wrong advice here
 * (oneDNN is the fast path, and commands say when it is missing), so the banner is switched off.
 */
function silenceNodeBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

/** Whether one backend can run here, without activating it. */
export interface BackendStatus {
  name: Exclude<BackendChoice, 'auto'>;
  available: boolean;
  /** Why not, and how to fix it (when not available). */
  reason?: string;
  /** The package behind it (none for cpu). */
  module?: string;
  /** Trains at native speed (everything but the pure-JS cpu backend and wasm, which cannot train). */
  trains: boolean;
}

/**
 * Every backend and whether it loads here, fastest first (what `resnet doctor` shows). Loads the
 * optional packages but activates none, so the current backend stays as it was.
 */
export async function probeBackends(): Promise<BackendStatus[]> {
  const order: Exclude<BackendChoice, 'auto'>[] = [...AUTO_ORDER.filter((b) => b !== 'cpu'), 'wasm', 'cpu'];
  const statuses: BackendStatus[] = [];
  for (const name of order) {
    if (name === 'cpu') {
      statuses.push({ name, available: true, trains: false });
      continue;
    }
    const plugin = PLUGINS[name];
    const trains = name !== 'wasm';
    let loaded: { unavailableReason?: () => string | undefined };
    try {
      loaded = (await loadOptional(plugin.module)) as typeof loaded;
    } catch {
      statuses.push({
        name,
        available: false,
        reason: `${plugin.module} is not installed; ${plugin.install}`,
        module: plugin.module,
        trains,
      });
      continue;
    }
    const reason = loaded.unavailableReason?.();
    statuses.push({ name, available: !reason, reason, module: plugin.module, trains });
  }
  return statuses;
}

/**
 * On the `onednn` backend, fixes how convolutions pick their memory layouts (`TrainConfig.convLayout`:
 * `plain` and `blocked` compute the same bits in every process); on other backends, nothing.
 */
export async function applyConvLayout(layout: ConvLayout): Promise<void> {
  if (tf.getBackend() !== 'onednn') return;
  const onednn = (await loadOptional('@resnet-ts/tfjs-backend-onednn')) as {
    setConvLayout?: (layout: string) => void;
  };
  onednn.setConvLayout?.(layout);
}

/**
 * Sets the arithmetic of matrix products and convolutions (`TrainConfig.precision`), on the backend
 * now active. The `cuda` backend computes in `fp32` (full single precision), `tf32` or `bf16`; every
 * other backend in fp32 only, so there `tf32` and `bf16` are an error — unless `fallback` (a
 * precision recorded by a run rather than asked for now, as eval and predict read it), which then
 * leaves fp32.
 */
export async function applyPrecision(
  precision: Precision,
  options: { fallback?: boolean } = {},
): Promise<void> {
  const backend = tf.getBackend();
  if (backend === 'cuda') {
    const cuda = (await loadOptional(CUDA_MODULE)) as { setPrecision?: (precision: Precision) => void };
    if (typeof cuda.setPrecision !== 'function')
      throw new BackendError(`backend cuda: ${CUDA_MODULE} has no setPrecision; update it`);
    cuda.setPrecision(precision);
    return;
  }
  if (precision === 'fp32' || options.fallback) return;
  throw new ConfigError(
    `precision: ${precision} needs --backend cuda (backend ${backend} computes in fp32 only; choose --precision fp32 there)`,
  );
}
