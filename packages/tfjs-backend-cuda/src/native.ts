import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Shapes of convolutions: n, h, w, c, oh, ow, co, fh, fw, sh, sw, dh, dw, padTop, padLeft. */
export type ConvShape = readonly number[];
/** Pooling: a ConvShape (co = c), then the effective (dilated) filter height and width. */
export type PoolShape = readonly number[];

export interface DeviceInit {
  deviceCount: number;
  /** Empty when a device is usable. */
  error: string;
  name: string;
  computeCapability: string;
  multiprocessors: number;
  memoryBytes: number;
  runtimeVersion: number;
  driverVersion: number;
  emulated: boolean;
}

/**
 * The functions the compiled addon exports (native/addon.cc). Device pointers are numbers; `0` is
 * "none" for optional operands. Every call is queued on one CUDA stream; only `download` and
 * `synchronize` wait for the device.
 */
export interface CudaAddon {
  init(): DeviceInit;
  malloc(bytes: number): number;
  free(ptr: number): void;
  upload(ptr: number, values: ArrayBufferView): void;
  download(ptr: number, values: ArrayBufferView): void;
  copy(dst: number, src: number, bytes: number): void;
  memset(ptr: number, value: number, bytes: number): void;
  synchronize(): void;
  memInfo(): { free: number; total: number; scratch: number };
  releaseScratch(): void;
  unary(op: number, dtype: number, x: number, out: number, n: number, a: number, b: number): void;
  binary(
    op: number,
    dtype: number,
    a: number,
    aShape: readonly number[],
    b: number,
    bShape: readonly number[],
    out: number,
    outDtype: number,
    outShape: readonly number[],
  ): void;
  select(
    cond: number,
    condShape: readonly number[],
    a: number,
    b: number,
    out: number,
    outShape: readonly number[],
  ): void;
  cast(from: number, to: number, toBool: boolean, x: number, out: number, n: number): void;
  fill(dtype: number, out: number, n: number, value: number): void;
  transpose(x: number, shape: readonly number[], perm: readonly number[], out: number): void;
  slice(
    x: number,
    shape: readonly number[],
    begin: readonly number[],
    step: readonly number[],
    out: number,
    outShape: readonly number[],
  ): void;
  pad(
    x: number,
    shape: readonly number[],
    before: readonly number[],
    valueBits: number,
    out: number,
    outShape: readonly number[],
  ): void;
  tile(x: number, shape: readonly number[], out: number, outShape: readonly number[]): void;
  copyColumns(x: number, rows: number, cols: number, out: number, outCols: number, colOffset: number): void;
  /** on and off are the 32 bits of the values in the output's dtype. */
  oneHot(indices: number, n: number, depth: number, onBits: number, offBits: number, out: number): void;
  gather(
    x: number,
    outer: number,
    axisSize: number,
    inner: number,
    indices: number,
    numIndices: number,
    out: number,
  ): void;
  reduce(op: number, dtype: number, x: number, outer: number, r: number, inner: number, out: number): void;
  softmax(x: number, rows: number, cols: number, out: number, log: boolean): void;
  conv2d(shape: ConvShape, x: number, filter: number, y: number): void;
  conv2dBackpropFilter(shape: ConvShape, x: number, dy: number, dw: number): void;
  conv2dBackpropInput(shape: ConvShape, dy: number, filter: number, dx: number): void;
  biasActivation(
    y: number,
    rows: number,
    cols: number,
    bias: number,
    activation: number,
    alpha: number,
  ): void;
  matmul(
    a: number,
    b: number,
    c: number,
    batchA: number,
    batchB: number,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): void;
  pool(shape: PoolShape, isMax: boolean, x: number, y: number): void;
  poolGrad(shape: PoolShape, isMax: boolean, dy: number, x: number, dx: number): void;
  batchNormTraining(
    x: number,
    scale: number,
    offset: number,
    epsilon: number,
    rows: number,
    cols: number,
    relu: boolean,
    y: number,
    mean: number,
    variance: number,
  ): void;
  batchNormTrainingGrad(
    dy: number,
    x: number,
    scale: number,
    offset: number,
    mean: number,
    variance: number,
    epsilon: number,
    rows: number,
    cols: number,
    dx: number,
    dScale: number,
    dOffset: number,
  ): void;
  batchNorm(
    x: number,
    n: number,
    mean: number,
    meanLength: number,
    variance: number,
    varianceLength: number,
    scale: number,
    scaleLength: number,
    offset: number,
    offsetLength: number,
    epsilon: number,
    y: number,
  ): void;
  lrn(
    x: number,
    rows: number,
    depth: number,
    radius: number,
    bias: number,
    alpha: number,
    beta: number,
    y: number,
  ): void;
  lrnGrad(
    dy: number,
    x: number,
    y: number,
    rows: number,
    depth: number,
    radius: number,
    bias: number,
    alpha: number,
    beta: number,
    dx: number,
  ): void;
  sgdUpdate(
    param: number,
    grad: number,
    velocity: number,
    n: number,
    lr: number,
    momentum: number,
    nesterov: boolean,
    keep: number,
    paramOut: number,
    velocityOut: number,
  ): void;
  /** Sets (when given) and returns the precision of products: 0 fp32, 1 tf32, 2 bf16. */
  precision(value?: number): number;
  /** Sets (when given) and returns the product engine: 0 auto, 1 our kernels, 2 cuBLAS only. */
  gemmEngine(value?: number): number;
  cublas(): { loaded: boolean; status: string };
  supports(kind: 'unary' | 'binary', op: number, dtype: number): boolean;
  opNames(): { unary: string[]; binary: string[]; reduce: string[] };
}

export const INSTALL_HINT =
  'The cuda backend needs an NVIDIA GPU with its driver, and the addon built with the CUDA toolkit ' +
  '(12.x or 13.x; nvcc from CUDA_HOME, CUDA_PATH or /usr/local/cuda): install the toolkit, then ' +
  '`npm rebuild @resnet-ts/tfjs-backend-cuda`.';

/** The host-emulation addon runs the same kernels as plain loops: for tests without a GPU. */
export function emulationRequested(): boolean {
  return process.env.RESNET_CUDA_EMULATE === '1';
}

let addon: CudaAddon | undefined;
let device: DeviceInit | undefined;
let reason: string | undefined;
let tried = false;

function addonPath(): string {
  const explicit = process.env.RESNET_CUDA_ADDON;
  if (explicit) return explicit;
  const file = emulationRequested() ? 'tfjs_cuda_emu.node' : 'tfjs_cuda.node';
  // dist/index.{js,cjs} and src/native.ts both sit one folder below the package root.
  return join(__dirname, '..', 'build', 'Release', file);
}

/** Loads the addon and finds a device once; undefined (with a reason) when either is missing. */
export function loadAddon(): CudaAddon | undefined {
  if (tried) return addon;
  tried = true;
  const path = addonPath();
  if (!existsSync(path)) {
    reason = process.env.RESNET_CUDA_ADDON
      ? `RESNET_CUDA_ADDON names ${path}, which does not exist`
      : emulationRequested()
        ? `the emulation addon ${path} was not built (npm run build -w @resnet-ts/tfjs-backend-cuda)`
        : `native addon not built (${path} is missing; was the CUDA toolkit there at install?)`;
    return undefined;
  }
  let loaded: CudaAddon;
  try {
    loaded = createRequire(__filename)(path) as CudaAddon;
  } catch (error) {
    reason = `native addon failed to load: ${(error as Error).message}`;
    return undefined;
  }
  const init = loaded.init();
  if (init.error || init.deviceCount === 0) {
    reason = `no usable CUDA GPU: ${init.error || 'no device'}`;
    return undefined;
  }
  device = init;
  addon = loaded;
  return addon;
}

export function requireAddon(): CudaAddon {
  const loaded = loadAddon();
  if (!loaded) throw new Error(`cuda backend unavailable: ${reason}. ${INSTALL_HINT}`);
  return loaded;
}

/** Why the backend cannot run here (undefined when it can). */
export function unavailableReason(): string | undefined {
  loadAddon();
  return addon ? undefined : `${reason}. ${INSTALL_HINT}`;
}

export function deviceInit(): DeviceInit | undefined {
  loadAddon();
  return device;
}
