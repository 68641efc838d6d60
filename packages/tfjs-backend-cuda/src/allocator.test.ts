import { CachingAllocator, type RawDevice, sizeClass } from './allocator';

/** A device that hands out fake addresses and can be told to run out of memory. */
function fakeDevice(capacity = Number.POSITIVE_INFINITY) {
  let next = 0x1000;
  let used = 0;
  const live = new Map<number, number>();
  const calls = { malloc: 0, free: 0, synchronize: 0 };
  const device: RawDevice = {
    malloc(bytes) {
      calls.malloc++;
      if (used + bytes > capacity) {
        throw Object.assign(new Error('cudaMalloc: out of device memory'), { code: 'CUDA_OOM' });
      }
      const ptr = next;
      next += bytes + 256;
      live.set(ptr, bytes);
      used += bytes;
      return ptr;
    },
    free(ptr) {
      calls.free++;
      used -= live.get(ptr) ?? 0;
      live.delete(ptr);
    },
    synchronize() {
      calls.synchronize++;
    },
  };
  return { device, calls, live: () => live.size, used: () => used };
}

describe('sizeClass', () => {
  it('rounds small requests to 512 bytes and large ones to an eighth of their power of two', () => {
    expect(sizeClass(0)).toBe(512);
    expect(sizeClass(1)).toBe(512);
    expect(sizeClass(513)).toBe(1024);
    expect(sizeClass(1 << 20)).toBe(1 << 20);
    expect(sizeClass((1 << 20) + 1)).toBe((1 << 20) + (1 << 17));
    expect(sizeClass(100_000_000)).toBeGreaterThanOrEqual(100_000_000);
    expect(sizeClass(100_000_000)).toBeLessThanOrEqual(100_000_000 * 1.125);
  });

  it('refuses sizes that are not sizes', () => {
    expect(() => sizeClass(-1)).toThrow(/non-negative/);
    expect(() => sizeClass(Number.NaN)).toThrow(/non-negative/);
  });
});

describe('CachingAllocator', () => {
  it('serves a released block again without calling the device', () => {
    const { device, calls } = fakeDevice();
    const allocator = new CachingAllocator(device);
    const a = allocator.allocate(4000);
    allocator.release(a);
    const b = allocator.allocate(3900); // same 4096-byte class
    expect(b).toBe(a);
    expect(calls.malloc).toBe(1);
    expect(allocator.stats()).toMatchObject({
      allocations: 2,
      cacheHits: 1,
      inUseBytes: 4096,
      cachedBytes: 0,
    });
  });

  it('keeps in-use, cached, reserved and peak bytes', () => {
    const { device } = fakeDevice();
    const allocator = new CachingAllocator(device);
    const blocks = [1000, 2000, 3000].map((n) => allocator.allocate(n));
    expect(allocator.stats()).toMatchObject({ inUseBytes: 1024 + 2048 + 3072, peakInUseBytes: 6144 });
    allocator.release(blocks[1]!);
    expect(allocator.stats()).toMatchObject({ inUseBytes: 4096, cachedBytes: 2048, reservedBytes: 6144 });
    expect(allocator.sizeOf(blocks[0]!)).toBe(1024);
    expect(allocator.sizeOf(blocks[1]!)).toBeUndefined();
  });

  it('returns the cache to the device after waiting for it', () => {
    const { device, calls, live } = fakeDevice();
    const allocator = new CachingAllocator(device);
    const kept = allocator.allocate(100);
    for (const n of [200, 300_000, 5_000_000]) allocator.release(allocator.allocate(n));
    expect(allocator.emptyCache()).toBe(512 + 300_032 + sizeClass(5_000_000));
    expect(calls.synchronize).toBe(1);
    expect(calls.free).toBe(3);
    expect(live()).toBe(1);
    expect(allocator.stats().cachedBytes).toBe(0);
    expect(allocator.emptyCache()).toBe(0);
    allocator.release(kept);
  });

  it('frees the cache and retries once when the device is full', () => {
    const { device, calls } = fakeDevice(8192);
    const allocator = new CachingAllocator(device);
    allocator.release(allocator.allocate(6000)); // 6144 cached
    const big = allocator.allocate(7000); // does not fit beside the cached block
    expect(big).toBeGreaterThan(0);
    expect(calls.free).toBe(1);
    expect(allocator.stats()).toMatchObject({ cachedBytes: 0, inUseBytes: 7168, deviceMallocs: 2 });
  });

  it('says how much tensors hold when the device stays full', () => {
    const { device } = fakeDevice(4096);
    const allocator = new CachingAllocator(device);
    allocator.allocate(3000);
    expect(() => allocator.allocate(3000)).toThrow(
      /out of device memory allocating 0\.0 MiB \(tensors hold 0\.0 MiB/,
    );
    try {
      allocator.allocate(3000);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('CUDA_OOM');
    }
  });

  it('passes other device errors through unchanged', () => {
    const device: RawDevice = {
      malloc: () => {
        throw new Error('cudaMalloc: cudaErrorLaunchFailure');
      },
      free: () => undefined,
      synchronize: () => undefined,
    };
    expect(() => new CachingAllocator(device).allocate(10)).toThrow('cudaMalloc: cudaErrorLaunchFailure');
  });

  it('refuses a block it did not hand out, or one released twice', () => {
    const { device } = fakeDevice();
    const allocator = new CachingAllocator(device);
    const a = allocator.allocate(10);
    allocator.release(a);
    expect(() => allocator.release(a)).toThrow(/released twice/);
    expect(() => allocator.release(12345)).toThrow(/not allocated here/);
  });
});
