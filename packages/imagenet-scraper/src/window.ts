type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `task(0..count-1)` at most `size` at a time, finished-but-unread results included, and
 * hands the results back in index order. `size` may change as results come in (it is asked before
 * each launch, as is `open()`); a task that throws rethrows from `next()`, in its turn.
 */
export class OrderedWindow<T> {
  private readonly running = new Map<number, Promise<Settled<T>>>();
  private launched = 0;
  /** Results read so far. */
  read = 0;

  constructor(
    private readonly count: number,
    private readonly size: number | (() => number),
    private readonly task: (index: number) => Promise<T>,
    private readonly open: () => boolean,
  ) {}

  /** Launches tasks up to the window's size. */
  fill(): void {
    const size = () => (typeof this.size === 'number' ? this.size : this.size());
    while (this.open() && this.launched < this.count && this.running.size < size()) {
      const index = this.launched++;
      const settled = this.task(index).then(
        (value): Settled<T> => ({ ok: true, value }),
        (error: unknown): Settled<T> => ({ ok: false, error }),
      );
      this.running.set(index, settled);
    }
  }

  /** The next result in order, or undefined when every launched task has been read. */
  async next(): Promise<T | undefined> {
    if (this.read >= this.launched) return undefined;
    const index = this.read++;
    const settled = await (this.running.get(index) as Promise<Settled<T>>);
    this.running.delete(index);
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  /** Waits for the tasks still running (cancel them first) and drops their results. */
  async drain(): Promise<void> {
    await Promise.all(this.running.values());
    this.running.clear();
  }
}
