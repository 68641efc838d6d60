/** A counting semaphore: at most `size` holders at once. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** One semaphore of `size` per key (a host), made on first use. */
export class KeyedSemaphore {
  private readonly semaphores = new Map<string, Semaphore>();
  constructor(private readonly size: number) {}
  acquire(key: string): Promise<() => void> {
    let semaphore = this.semaphores.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.size);
      this.semaphores.set(key, semaphore);
    }
    return semaphore.acquire();
  }
}
