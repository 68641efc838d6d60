/** What the allocator needs from the device: raw allocations and a way to wait for it. */
export interface RawDevice {
  malloc(bytes: number): number;
  free(ptr: number): void;
  synchronize(): void;
}

export interface AllocatorStats {
  /** Bytes in blocks handed out and not yet released. */
  inUseBytes: number;
  /** Bytes in released blocks kept for reuse. */
  cachedBytes: number;
  /** inUse + cached: what the allocator holds on the device. */
  reservedBytes: number;
  peakInUseBytes: number;
  /** allocate() calls, and how many a cached block served. */
  allocations: number;
  cacheHits: number;
  /** Calls of the device's own malloc and free. */
  deviceMallocs: number;
  deviceFrees: number;
}

const SMALL_LIMIT = 1 << 20;
const SMALL_GRANULE = 512;

/**
 * The size class a request is served from: multiples of 512 bytes up to 1 MiB, then steps of an
 * eighth of the power of two below (at most 12.5% slack), so that the sizes a training step asks
 * for again and again always find their own freed blocks.
 */
export function sizeClass(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 0)
    throw new Error(`allocation size: expected a non-negative number, got ${bytes}`);
  const n = Math.max(bytes, 1);
  if (n <= SMALL_LIMIT) return Math.ceil(n / SMALL_GRANULE) * SMALL_GRANULE;
  const step = 2 ** (Math.floor(Math.log2(n)) - 3);
  return Math.ceil(n / step) * step;
}

function isOutOfMemory(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'CUDA_OOM';
}

/**
 * A caching device allocator: freed blocks go to a free list per size class and serve the next
 * request of that class, so a training loop stops calling cudaMalloc (which synchronises the
 * device) after its first step. With one stream, a block freed by the host can be reused at once:
 * the work queued later runs after the work that last used it. When the device is full, the cache
 * is returned to it and the request tried again.
 */
export class CachingAllocator {
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private inUse = 0;
  private cached = 0;
  private peak = 0;
  private allocations = 0;
  private hits = 0;
  private deviceMallocs = 0;
  private deviceFrees = 0;

  constructor(private readonly device: RawDevice) {}

  allocate(bytes: number): number {
    const size = sizeClass(bytes);
    this.allocations++;
    const list = this.free.get(size);
    let ptr = list?.pop();
    if (ptr !== undefined) {
      this.hits++;
      this.cached -= size;
    } else {
      ptr = this.deviceMalloc(size);
    }
    this.sizes.set(ptr, size);
    this.inUse += size;
    this.peak = Math.max(this.peak, this.inUse);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined)
      throw new Error(`cuda allocator: ${ptr} was not allocated here or was released twice`);
    this.sizes.delete(ptr);
    this.inUse -= size;
    this.cached += size;
    const list = this.free.get(size);
    if (list) list.push(ptr);
    else this.free.set(size, [ptr]);
  }

  /** Returns every cached block to the device; the bytes freed. */
  emptyCache(): number {
    if (this.cached === 0) return 0;
    this.device.synchronize();
    const freed = this.cached;
    for (const list of this.free.values()) {
      for (const ptr of list) {
        this.device.free(ptr);
        this.deviceFrees++;
      }
    }
    this.free.clear();
    this.cached = 0;
    return freed;
  }

  /** The size class a pointer was allocated with (undefined if it is not in use). */
  sizeOf(ptr: number): number | undefined {
    return this.sizes.get(ptr);
  }

  stats(): AllocatorStats {
    return {
      inUseBytes: this.inUse,
      cachedBytes: this.cached,
      reservedBytes: this.inUse + this.cached,
      peakInUseBytes: this.peak,
      allocations: this.allocations,
      cacheHits: this.hits,
      deviceMallocs: this.deviceMallocs,
      deviceFrees: this.deviceFrees,
    };
  }

  private deviceMalloc(size: number): number {
    try {
      const ptr = this.device.malloc(size);
      this.deviceMallocs++;
      return ptr;
    } catch (error) {
      if (!isOutOfMemory(error) || this.emptyCache() === 0) throw this.describe(error, size);
      try {
        const ptr = this.device.malloc(size);
        this.deviceMallocs++;
        return ptr;
      } catch (retry) {
        throw this.describe(retry, size);
      }
    }
  }

  private describe(error: unknown, size: number): Error {
    if (!isOutOfMemory(error)) return error as Error;
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const out = new Error(
      `cuda: out of device memory allocating ${mb(size)} (tensors hold ${mb(this.inUse)}; the cache was emptied): ` +
        'use a smaller batch, or dispose tensors you no longer need (tf.tidy)',
    );
    (out as Error & { code: string }).code = 'CUDA_OOM';
    return out;
  }
}
