import {
  type BackendTimingInfo,
  type backend_util,
  type DataId,
  type DataType,
  KernelBackend,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { type AllocatorStats, CachingAllocator } from './allocator';
import { type CudaAddon, requireAddon } from './native';

/** Element types on the device: float32, and int32 (which also holds bool as 0/1). */
export const F32 = 0;
export const I32 = 1;

interface TensorData {
  /** Device pointer; 0 until the values are first needed on the device (or for empty tensors). */
  ptr: number;
  dtype: DataType;
  /** Elements. */
  size: number;
  refCount: number;
  /** Host values: what was written, or a cached read. Device data never changes once written. */
  host?: backend_util.BackendValues;
}

let nextDataId = 0;

/** The device code of a tfjs dtype; strings and complex numbers never reach the device. */
export function deviceType(dtype: DataType): number {
  if (dtype === 'float32') return F32;
  if (dtype === 'int32' || dtype === 'bool') return I32;
  throw new Error(`cuda: ${dtype} tensors do not live on the device`);
}

export function onDevice(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

/**
 * A TensorFlow.js backend whose tensors live in GPU memory. Values reach the host only when read
 * (`data()`, `dataSync()`), or when a kernel this backend lacks runs on the CPU backend instead
 * (see `cpuFallbackKernels()`). Device memory comes from a caching allocator; every kernel is
 * queued on one CUDA stream, so the host waits only for reads.
 */
export class CudaBackend extends KernelBackend {
  /** The native addon's bindings, for this package's kernels. @internal */
  readonly addon: CudaAddon;
  readonly allocator: CachingAllocator;
  private readonly store = new WeakMap<DataId, TensorData>();
  private dataIds = 0;

  constructor() {
    super();
    this.addon = requireAddon();
    const addon = this.addon;
    this.allocator = new CachingAllocator({
      malloc: (bytes) => addon.malloc(bytes),
      free: (ptr) => addon.free(ptr),
      synchronize: () => addon.synchronize(),
    });
  }

  // ---- tensor storage -------------------------------------------------------------------------

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = { id: nextDataId++ };
    this.store.set(dataId, { ptr: 0, dtype, size: util.sizeFromShape(shape), refCount: 1, host: values });
    this.dataIds++;
    return dataId;
  }

  override move(
    dataId: DataId,
    values: backend_util.BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    if (!this.store.has(dataId)) this.dataIds++;
    this.store.set(dataId, { ptr: 0, dtype, size: util.sizeFromShape(shape), refCount, host: values });
  }

  /** A new tensor: with values, written like `write`; without, device memory for a kernel's output. */
  makeTensorInfo(shape: number[], dtype: DataType, values?: backend_util.BackendValues): TensorInfo {
    if (values !== undefined) return { dataId: this.write(values, shape, dtype), shape, dtype };
    const size = util.sizeFromShape(shape);
    const dataId = { id: nextDataId++ };
    const ptr = size > 0 && onDevice(dtype) ? this.allocator.allocate(size * 4) : 0;
    this.store.set(dataId, { ptr, dtype, size, refCount: 1 });
    this.dataIds++;
    return { dataId, shape, dtype };
  }

  override refCount(dataId: DataId): number {
    return this.store.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: DataId): void {
    const data = this.store.get(dataId);
    if (data) data.refCount++;
  }

  override numDataIds(): number {
    return this.dataIds;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const data = this.store.get(dataId);
    if (!data) return true;
    data.refCount--;
    if (!force && data.refCount > 0) return false;
    if (data.ptr) this.allocator.release(data.ptr);
    this.store.delete(dataId);
    this.dataIds--;
    return true;
  }

  /** The device pointer of a tensor's values, uploading them first if they are only on the host. */
  ptr(t: TensorInfo): number {
    const data = this.entry(t.dataId);
    if (data.ptr || data.size === 0) return data.ptr;
    if (!onDevice(data.dtype)) throw new Error(`cuda: ${data.dtype} tensors do not live on the device`);
    const host = data.host as backend_util.TypedArray | undefined;
    if (!host) throw new Error('cuda: a tensor has neither device nor host values');
    data.ptr = this.allocator.allocate(data.size * 4);
    this.addon.upload(data.ptr, toDeviceArray(host, data.dtype));
    return data.ptr;
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const data = this.entry(dataId);
    if (data.host) return data.host;
    const values = makeHostArray(data.dtype, data.size);
    if (data.size > 0) {
      if (data.dtype === 'bool') {
        const words = new Int32Array(data.size);
        this.addon.download(data.ptr, words);
        (values as Uint8Array).set(words);
      } else {
        this.addon.download(data.ptr, values as backend_util.TypedArray);
      }
    }
    data.host = values;
    return values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  // ---- the rest of KernelBackend --------------------------------------------------------------

  override timerAvailable(): boolean {
    return true;
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    this.addon.synchronize();
    const start = util.now();
    f();
    this.addon.synchronize();
    return { kernelMs: util.now() - start };
  }

  override memory(): {
    unreliable: boolean;
    reasons?: string[];
    numBytesInGPU: number;
    numBytesInGPUAllocated: number;
    numBytesInGPUFree: number;
    numBytesInScratch: number;
  } {
    const stats = this.allocator.stats();
    return {
      unreliable: false,
      numBytesInGPU: stats.inUseBytes,
      numBytesInGPUAllocated: stats.reservedBytes,
      numBytesInGPUFree: stats.cachedBytes,
      numBytesInScratch: this.addon.memInfo().scratch,
    };
  }

  allocatorStats(): AllocatorStats {
    return this.allocator.stats();
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    this.addon.synchronize();
    this.allocator.emptyCache();
    this.addon.releaseScratch();
  }

  private entry(dataId: DataId): TensorData {
    const data = this.store.get(dataId);
    if (!data) throw new Error('cuda: the tensor was disposed (or belongs to another backend)');
    return data;
  }
}

function makeHostArray(dtype: DataType, size: number): backend_util.BackendValues {
  if (dtype === 'float32') return new Float32Array(size);
  if (dtype === 'int32') return new Int32Array(size);
  if (dtype === 'bool') return new Uint8Array(size);
  throw new Error(`cuda: cannot read ${dtype} values from the device`);
}

/** Host values as the device stores them: float32 or int32 words (bool as 0/1 int32). */
function toDeviceArray(host: backend_util.TypedArray, dtype: DataType): ArrayBufferView {
  if (dtype === 'float32') return host instanceof Float32Array ? host : Float32Array.from(host);
  if (host instanceof Int32Array) return host;
  return Int32Array.from(host as ArrayLike<number>);
}
