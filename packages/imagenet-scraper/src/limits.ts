import { setTimeout as sleep } from 'node:timers/promises';

/** A counting semaphore: at most `size` holders at once. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  /**
   * Resolves with the release once a place is free. With `signal`, a waiter leaves the queue when
   * it aborts and the promise rejects: a cancelled download must not wait behind other classes'.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.free > 0) this.free--;
    else
      await new Promise<void>((resolve, reject) => {
        const granted = () => {
          signal?.removeEventListener('abort', abandon);
          resolve();
        };
        const abandon = () => {
          this.waiting.splice(this.waiting.indexOf(granted), 1);
          reject(signal?.reason);
        };
        this.waiting.push(granted);
        signal?.addEventListener('abort', abandon, { once: true });
      });
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/**
 * A budget shared by weight (bytes of decoded pixels): holders' weights never sum past `capacity`,
 * except one heavier than the whole budget, which runs alone. First come, first served, so a heavy
 * request is not starved by light ones.
 */
export class WeightedSemaphore {
  private free: number;
  private readonly waiting: { weight: number; resolve: () => void }[] = [];
  constructor(private readonly capacity: number) {
    this.free = capacity;
  }
  async acquire(weight: number): Promise<() => void> {
    const w = Math.min(Math.max(0, weight), this.capacity);
    if (this.waiting.length === 0 && this.free >= w) this.free -= w;
    else await new Promise<void>((resolve) => this.waiting.push({ weight: w, resolve }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free += w;
      for (let next = this.waiting[0]; next && this.free >= next.weight; next = this.waiting[0]) {
        this.waiting.shift();
        this.free -= next.weight;
        next.resolve();
      }
    };
  }
}

/** One semaphore of `size` per key (a host), made on first use. */
export class KeyedSemaphore {
  private readonly semaphores = new Map<string, Semaphore>();
  constructor(private readonly size: number) {}
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    let semaphore = this.semaphores.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.size);
      this.semaphores.set(key, semaphore);
    }
    return semaphore.acquire(signal);
  }
}

/**
 * Per host, the moment before which no request may start: a Retry-After holds back every request
 * to that host, not only the URL that got it. Shared by all of a run's download slots.
 */
export class HostGate {
  private readonly until = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Holds requests to `host` back for `ms` from now; never shortens a longer hold. */
  defer(host: string, ms: number): void {
    const until = this.now() + ms;
    if (until > (this.until.get(host) ?? 0)) this.until.set(host, until);
  }

  /** How long `host` is still held back, ms (0: free). */
  heldFor(host: string): number {
    const until = this.until.get(host);
    if (until === undefined) return 0;
    const ms = until - this.now();
    if (ms <= 0) this.until.delete(host);
    return Math.max(0, ms);
  }

  /** Resolves once `host` may be asked; rejects when `signal` aborts first. */
  async wait(host: string, signal?: AbortSignal): Promise<void> {
    // A loop: another slot may extend the hold while this one sleeps.
    for (let ms = this.heldFor(host); ms > 0; ms = this.heldFor(host)) await sleep(ms, undefined, { signal });
  }
}

/** Per-host limits a downloader honours: this process's (`localHostLimits`), or shared by every worker through Redis. */
export interface HostLimits {
  /** Resolves with the release once a request to `host` may start (at most `perHost` at once); rejects when `signal` aborts. */
  acquire(host: string, signal?: AbortSignal): Promise<() => void>;
  /** Resolves once no Retry-After holds `host` back; rejects when `signal` aborts. */
  wait(host: string, signal?: AbortSignal): Promise<void>;
  /** Holds `host` back for `ms` from now (never shortens a longer hold). */
  defer(host: string, ms: number): void;
  /** Releases what it holds and stops its timers. */
  close?(): Promise<void>;
}

/** This process's limits: `perHost` requests per host at once, Retry-After shared by its requests. */
export function localHostLimits(perHost: number): HostLimits {
  const semaphores = new KeyedSemaphore(perHost);
  const gate = new HostGate();
  return {
    acquire: (host, signal) => semaphores.acquire(host, signal),
    wait: (host, signal) => gate.wait(host, signal),
    defer: (host, ms) => gate.defer(host, ms),
  };
}
