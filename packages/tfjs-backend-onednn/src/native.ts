import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ConvLayout } from '@resnet-ts/backends';

// The names of the addon's op and policy codes; the codes themselves are the C++ enums', exported by
// the addon as `opCodes` (native/elementwise.cc, native/conv.cc), so no number is written here.
export const BINARY_OPS = [
  'add',
  'sub',
  'mul',
  'div',
  'max',
  'min',
  'squaredDifference',
  'reluGrad',
  'squareGrad',
] as const;
export const UNARY_OPS = [
  'relu',
  'relu6',
  'neg',
  'square',
  'sqrt',
  'rsqrt',
  'exp',
  'log',
  'abs',
  'step',
  'sigmoid',
  'tanh',
  'reciprocal',
  'elu',
] as const;
export const REDUCE_OPS = ['sum', 'mean', 'max', 'min'] as const;
/** tfjs's fused activations the addon applies as post-ops (others fall back to the cpu kernel). */
export const FUSED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
export type UnaryOp = (typeof UNARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type FusedActivation = (typeof FUSED_ACTIVATIONS)[number];

export interface OpCodes {
  binary: Record<BinaryOp, number>;
  unary: Record<UnaryOp, number>;
  reduce: Record<ReduceOp, number>;
  activation: Record<FusedActivation, number>;
  /** The layout policies, named by @resnet-ts/backends' `CONV_LAYOUTS`. */
  convLayout: Record<ConvLayout, number>;
}

/** The functions the compiled addon exports (see native/addon.cc). */
export interface OneDnnAddon {
  /** Op and policy codes by name (the C++ enums'). */
  opCodes: OpCodes;
  version(): { major: number; minor: number; patch: number; cpuRuntime: string };
  setNumThreads(threads: number): void;
  getNumThreads(): number;
  primitiveCache(limit?: number): {
    size: number;
    limit: number;
    hits: number;
    misses: number;
    weightCopies: number;
  };
  clearPrimitiveCache(): void;
  /** Drops the reordered copies of the weights whose data has this version (see conv2d). */
  forgetWeights(version: number): void;
  /** Sets (when given) and returns the convolution layout policy (a code of `opCodes.convLayout`). */
  convLayout(policy?: number): number;
  /**
   * activation(conv(x) + bias [+ shortcut]). `weightsVersion` names the filter's data (0: unknown),
   * so that its reordered copy is reused while it stays the same; `shortcutParams` are the
   * shortcut's [height, width, channels, stride, channelsBefore] (subsampled by `stride`, then
   * zero-padded along the channels to the output's).
   */
  conv2d(
    params: Int32Array,
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    activation: number,
    alpha: number,
    weightsVersion?: number,
    shortcut?: Float32Array | null,
    shortcutParams?: Int32Array | null,
    /** Let `timed` layouts also try Winograd (less precise: inference only). */
    allowWinograd?: boolean,
  ): void;
  /** params: batchA, batchB, M, K, N, transposeA, transposeB. */
  matmul(
    params: Int32Array,
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    activation: number,
    alpha: number,
  ): void;
  conv2dBackpropInput(params: Int32Array, dy: Float32Array, filter: Float32Array, dx: Float32Array): void;
  conv2dBackpropFilter(params: Int32Array, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  binary(
    op: number,
    a: Float32Array,
    aShape: Int32Array,
    b: Float32Array,
    bShape: Int32Array,
    out: Float32Array,
    outShape: Int32Array,
  ): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[k1, k2] = reduce over r of x[k1, r, k2]. */
  reduce(op: number, x: Float32Array, krk: Int32Array, out: Float32Array): void;
  tile(x: Float32Array, xShape: Int32Array, out: Float32Array, outShape: Int32Array): void;
  slice(x: Float32Array, xShape: Int32Array, begin: Int32Array, out: Float32Array, size: Int32Array): void;
  pad(
    x: Float32Array,
    xShape: Int32Array,
    before: Int32Array,
    out: Float32Array,
    outShape: Int32Array,
    value: number,
  ): void;
  pool(params: Int32Array, isMax: number, x: Float32Array, out: Float32Array): void;
  poolBackward(
    params: Int32Array,
    isMax: number,
    dy: Float32Array,
    x: Float32Array | null,
    dx: Float32Array,
  ): void;
  batchNormForward(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    offset: Float32Array | null,
    epsilon: number,
    out: Float32Array,
  ): void;
  batchNormBackward(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    epsilon: number,
    dx: Float32Array,
    dMean: Float32Array,
    dVariance: Float32Array,
    dScale: Float32Array,
    dOffset: Float32Array,
  ): void;
  batchNormTraining(
    x: Float32Array,
    scale: Float32Array,
    offset: Float32Array,
    epsilon: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    relu: boolean,
  ): void;
  batchNormTrainingGrad(
    dy: Float32Array,
    x: Float32Array,
    scale: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    epsilon: number,
    dx: Float32Array,
    dScale: Float32Array,
    dOffset: Float32Array,
    /** The forward's offset when it was fused with a ReLU (dy is masked by its output > 0). */
    reluOffset: Float32Array | null,
  ): void;
  /** One SGD step: v' = v·momentum + g; d = nesterov ? g + v'·momentum : v'; p' = p·keep − d·lr. */
  sgdUpdate(
    param: Float32Array,
    grad: Float32Array,
    velocity: Float32Array | null,
    paramOut: Float32Array,
    velocityOut: Float32Array | null,
    lr: number,
    momentum: number,
    nesterov: boolean,
    keep: number,
  ): void;
}

export const INSTALL_HINT =
  'Install oneDNN (Debian/Ubuntu: `apt-get install libdnnl-dev`) and rebuild the addon with ' +
  '`npm rebuild @resnet-ts/tfjs-backend-onednn`; or choose another backend (cpu, wasm, tensorflow).';

let addon: OneDnnAddon | undefined;
let loadError: string | undefined;
let addonFile: string | undefined;

const packageRoot = join(__dirname, '..');

/**
 * Path of the addon: ONEDNN_ADDON_PATH; else a source build in build/Release; else the prebuilt one
 * the published package ships in prebuilds/<platform>-<arch>/ (found by node-gyp-build, the
 * ecosystem's resolver for prebuildify's layout); undefined when there is neither.
 */
function addonPath(): string | undefined {
  if (process.env.ONEDNN_ADDON_PATH) return process.env.ONEDNN_ADDON_PATH;
  const nodeGypBuild = createRequire(__filename)('node-gyp-build') as { path: (dir: string) => string };
  try {
    return nodeGypBuild.path(packageRoot);
  } catch {
    return undefined;
  }
}

/**
 * How long (in spins) an idle OpenMP thread keeps its core busy waiting for the next parallel
 * region before it sleeps, unless GOMP_SPINCOUNT or OMP_WAIT_POLICY says otherwise. libgomp's
 * default, 300,000, assumes the cores are ours: where other processes keep a core busy, the
 * spinning thread holds the core its partner needs. Measured on this project's 2 shared cores,
 * ResNet-20 inference at batch 128 (medians of 10 calls, 2–4 alternating runs): under a load
 * average of 9–16, 421–484 ms with 300,000, 167–185 ms with 30,000 and 117–163 ms with 1,000; at
 * a load of 2–6, 61–81, 67–80 and 75–83 ms; ResNet-50 at batch 32 1.3–1.5 s with each.
 */
export const DEFAULT_GOMP_SPINCOUNT = '30000';

/** Runs `load` (which loads libgomp, reading its settings then) with our default spin count. */
function withOpenMpDefaults<T>(load: () => T): T {
  const unset = process.env.GOMP_SPINCOUNT === undefined && process.env.OMP_WAIT_POLICY === undefined;
  if (unset) process.env.GOMP_SPINCOUNT = DEFAULT_GOMP_SPINCOUNT;
  try {
    return load();
  } finally {
    // Child processes inherit the environment as the user left it.
    if (unset) delete process.env.GOMP_SPINCOUNT;
  }
}

/** Loads the addon once; returns undefined (and remembers why) when it cannot be loaded. */
export function loadAddon(): OneDnnAddon | undefined {
  if (addon || loadError) return addon;
  const path = addonPath();
  if (!path || !existsSync(path)) {
    loadError = `the native addon was not built (${path ?? join(packageRoot, 'build', 'Release', 'onednn.node')} is missing, and there is no prebuilt addon for ${process.platform}-${process.arch})`;
    return undefined;
  }
  try {
    addon = withOpenMpDefaults(() => createRequire(__filename)(path) as OneDnnAddon);
    addonFile = path;
  } catch (error) {
    loadError = `the native addon failed to load: ${(error as Error).message}`;
  }
  return addon;
}

/** The file the addon was loaded from (a source build or the prebuilt one); undefined if not loaded. */
export function addonLocation(): string | undefined {
  loadAddon();
  return addonFile;
}

/** Why the backend is unavailable, as one actionable sentence; undefined when it is available. */
export function unavailableReason(): string | undefined {
  loadAddon();
  return loadError ? `onednn backend unavailable: ${loadError}. ${INSTALL_HINT}` : undefined;
}

/** The addon, or an Error that says what to install. */
export function requireAddon(): OneDnnAddon {
  const loaded = loadAddon();
  if (!loaded) throw new Error(unavailableReason());
  return loaded;
}
