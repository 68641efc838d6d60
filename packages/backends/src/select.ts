import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { rememberCapabilities } from './capabilities';
import { BackendError, fastBackendFixes, NoFastBackendError } from './errors';
import type { BackendChoice, NamedBackend } from './names';
import { AUTO_ORDER, BACKEND_PLUGINS, loadOptional, pluginOf } from './plugins';

interface LoadedPlugin {
  unavailableReason?: () => string | undefined;
  capabilities?: unknown;
}

async function activate(choice: NamedBackend): Promise<string> {
  if (choice === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new BackendError('backend cpu: failed to initialise');
    return 'cpu';
  }
  const plugin = pluginOf(choice);
  // Callers may pass any string; name the choices rather than fail on undefined.
  if (plugin === undefined)
    throw new BackendError(
      `backend ${String(choice)}: unknown; expected one of auto, cpu, ${Object.keys(BACKEND_PLUGINS).join(', ')}`,
    );
  let loaded: LoadedPlugin;
  try {
    loaded = (await loadOptional(plugin.module)) as LoadedPlugin;
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
  rememberCapabilities(plugin.backend, loaded.capabilities);
  return plugin.backend;
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
 * pure JS: `AUTO_ORDER`) and reports what it skipped and why; a named backend that cannot load is an
 * error that says how to install it. Only applications call this: libraries run on the active backend.
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
  name: NamedBackend;
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
  const order: NamedBackend[] = [...AUTO_ORDER.filter((b) => b !== 'cpu'), 'wasm', 'cpu'];
  const statuses: BackendStatus[] = [];
  for (const name of order) {
    const plugin = pluginOf(name);
    if (plugin === undefined) {
      statuses.push({ name, available: true, trains: false });
      continue;
    }
    const trains = name !== 'wasm';
    let loaded: LoadedPlugin;
    try {
      loaded = (await loadOptional(plugin.module)) as LoadedPlugin;
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
 * What `useBackend('auto', { allowSlowCpu: false })` would do here, found by probing (activating
 * nothing): the name of the fast backend it would take, or the `NoFastBackendError` it would throw.
 */
export async function probeFastBackend(): Promise<NamedBackend | NoFastBackendError> {
  const statuses = await probeBackends();
  const skipped: string[] = [];
  for (const name of AUTO_ORDER.filter((b) => b !== 'cpu')) {
    const status = statuses.find((s) => s.name === name);
    if (status?.available) return name;
    if (status) skipped.push(`backend ${name}: ${status.reason}`);
  }
  return new NoFastBackendError(skipped);
}
