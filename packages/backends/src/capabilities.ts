import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors';
import type { ConvLayout, Precision } from './names';
import { BACKEND_PLUGINS, loadOptional } from './plugins';

/** The device a backend computes on, where it is not the CPU (for benchmark records). */
export interface BackendDevice {
  name: string;
  computeCapability?: string;
  memoryBytes?: number;
  driverVersion?: string;
  runtimeVersion?: string;
}

/**
 * A backend's description of itself: what it can be told and what it offers. A backend package
 * exports one as `capabilities` (`satisfies BackendCapabilities`; a package that does not depend on
 * this one may match it structurally); `configureBackend` acts only through it, so no caller
 * special-cases a backend by name.
 */
export interface BackendCapabilities {
  /** The name it registers with TensorFlow.js. */
  readonly name: string;
  /** Sets the threads it computes with (absent: it has no such setting). */
  setThreads?(threads: number): void;
  /** The threads it computes with; undefined when it cannot say. */
  getThreads?(): number | undefined;
  /** The convolution layout policies it has (see `CONV_LAYOUTS`); absent: no choice to make. */
  readonly convLayouts?: readonly string[];
  setConvLayout?(layout: string): void;
  /** The precisions of its matrix products and convolutions (see `PRECISIONS`); at least `fp32`. */
  readonly precisions: readonly string[];
  setPrecision?(precision: string): void;
  getPrecision?(): string;
  /** The fused kernels it registers (names as `tf.getKernel` takes them), e.g. `ResNetBatchNormReLU`. */
  readonly fusedKernels: readonly string[];
  /** The device it runs on, when not the CPU. */
  device?(): BackendDevice | undefined;
  /** Versions of the native libraries it runs on, by library name (e.g. `{ onednn: '2.6.3' }`). */
  versions?(): Record<string, string>;
}

/** What a backend without a package of its own (or without `capabilities`) can do: fp32, as it is. */
const BUILT_IN: Readonly<Record<string, BackendCapabilities>> = {
  // The pure-JS and WebAssembly backends compute on one thread.
  cpu: { name: 'cpu', precisions: ['fp32'], fusedKernels: [], getThreads: () => 1 },
  wasm: { name: 'wasm', precisions: ['fp32'], fusedKernels: [], getThreads: () => 1 },
};

/** The capabilities of the backends `useBackend` activated (or found), by TensorFlow.js name. */
const described = new Map<string, BackendCapabilities>();

function isCapabilities(value: unknown): value is BackendCapabilities {
  const c = value as Partial<BackendCapabilities> | null | undefined;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.name === 'string' &&
    Array.isArray(c.precisions) &&
    Array.isArray(c.fusedKernels)
  );
}

/** Keeps what a loaded backend package says of itself (called when `useBackend` activates it). */
export function rememberCapabilities(backend: string, capabilities: unknown): void {
  if (isCapabilities(capabilities) && capabilities.name === backend) described.set(backend, capabilities);
}

/**
 * The active backend's capabilities: those its package exports (`capabilities`), for a backend
 * activated by `useBackend` or by hand; built-in ones for `cpu` and `wasm`; otherwise fp32 only,
 * nothing to set.
 */
export async function activeCapabilities(): Promise<BackendCapabilities> {
  const name = tf.getBackend();
  const known = described.get(name);
  if (known) return known;
  // Activated by hand: its package is found by the name it registers, where that is unambiguous
  // (both libtensorflow bindings register `tensorflow`, and neither describes itself).
  const plugins = Object.values(BACKEND_PLUGINS).filter((p) => p.backend === name);
  if (plugins.length === 1 && plugins[0]) {
    const loaded = (await loadOptional(plugins[0].module).catch(() => undefined)) as
      | { capabilities?: unknown }
      | undefined;
    rememberCapabilities(name, loaded?.capabilities);
    const found = described.get(name);
    if (found) return found;
  }
  return BUILT_IN[name] ?? { name, precisions: ['fp32'], fusedKernels: [] };
}

/** What `configureBackend` sets; a field left out is left as it is. */
export interface BackendSettings {
  /** Threads, on a backend that has the setting (elsewhere ignored). */
  threads?: number;
  /** Convolution layout policy, on a backend that has the choice (elsewhere ignored). */
  convLayout?: ConvLayout;
  /** Arithmetic of matrix products and convolutions; one the backend lacks is an error. */
  precision?: Precision;
}

export interface ConfigureOptions {
  /**
   * The settings were recorded (by a run that eval or predict read) rather than asked for now: a
   * precision or layout the active backend lacks then leaves its fp32 or its own layout instead of
   * being an error.
   */
  fallback?: boolean;
}

/** The backends offering a precision, for the error when the active one lacks it. */
function offering(precision: string): string {
  const names = Object.entries(BACKEND_PLUGINS)
    .filter(([, plugin]) => plugin.precisions?.includes(precision as Precision))
    .map(([name]) => `--backend ${name}`);
  return names.length > 0 ? `needs ${names.join(' or ')}` : 'is offered by no backend';
}

/**
 * Applies threads, convolution layout and precision to the active backend, through its
 * `capabilities`: settings it has are set, settings it lacks are ignored (threads, layout), and a
 * precision it does not offer is an error that says which backend has it (or, with `fallback`,
 * leaves fp32). Everything is checked before anything is set. Returns the capabilities used.
 */
export async function configureBackend(
  settings: BackendSettings,
  options: ConfigureOptions = {},
): Promise<BackendCapabilities> {
  const capabilities = await activeCapabilities();
  const { threads, convLayout, precision } = settings;
  let setPrecision: string | undefined;
  if (precision !== undefined) {
    if (capabilities.precisions.includes(precision)) setPrecision = precision;
    else if (!options.fallback) {
      throw new BackendError(
        `precision: ${precision} ${offering(precision)} (backend ${capabilities.name} computes in ${capabilities.precisions.join(', ')} only; choose --precision ${capabilities.precisions.join(' or ')} there)`,
      );
    } else if (capabilities.precisions.includes('fp32')) setPrecision = 'fp32';
  }
  let setLayout: string | undefined;
  if (convLayout !== undefined && capabilities.setConvLayout) {
    const layouts = capabilities.convLayouts;
    if (!layouts || layouts.includes(convLayout)) setLayout = convLayout;
    else if (!options.fallback) {
      throw new BackendError(
        `convLayout: ${convLayout} is not one of backend ${capabilities.name}'s (${layouts.join(', ')})`,
      );
    }
  }
  if (threads !== undefined) capabilities.setThreads?.(threads);
  if (setLayout !== undefined) capabilities.setConvLayout?.(setLayout);
  if (setPrecision !== undefined) capabilities.setPrecision?.(setPrecision);
  return capabilities;
}

/**
 * Sets the precision of the active backend: `configureBackend({ precision }, options)`, kept for
 * callers of the earlier `@resnet-ts/train` export.
 */
export async function applyPrecision(precision: Precision, options: ConfigureOptions = {}): Promise<void> {
  await configureBackend({ precision }, options);
}
