type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `task(start..count-1)` in index order of launch and hands the results back in index order.
 * Only running tasks count against `size`: results that finished behind an unfinished earlier
 * one are held (see `held`) without taking a place, so one slow task never stops the window from
 * moving on. `size` and `open()` are asked before each launch; a finished task launches the next
 * at once. A task that throws rethrows from `next()`, in its turn.
 */
export class OrderedWindow<T> {
  private readonly tasks = new Map<number, Promise<Settled<T>>>();
  private launched: number;
  /** Tasks launched and not yet finished. */
  running = 0;
  /** Results read so far (the next index `next()` returns). */
  read: number;

  constructor(
    private readonly count: number,
    private readonly size: () => number,
    private readonly task: (index: number) => Promise<T>,
    private readonly open: () => boolean,
    start = 0,
  ) {
    this.launched = start;
    this.read = start;
  }

  /** Finished results not yet read. */
  get held(): number {
    return this.launched - this.read - this.running;
  }

  /** Launches tasks while the window has room. */
  fill(): void {
    while (this.open() && this.launched < this.count && this.running < this.size()) {
      const index = this.launched++;
      this.running++;
      const settled = this.task(index).then(
        (value): Settled<T> => ({ ok: true, value }),
        (error: unknown): Settled<T> => ({ ok: false, error }),
      );
      this.tasks.set(
        index,
        settled.then((result) => {
          this.running--;
          this.fill();
          return result;
        }),
      );
    }
  }

  /** The next result in order, or undefined when every launched task has been read. */
  async next(): Promise<T | undefined> {
    if (this.read >= this.launched) return undefined;
    const index = this.read++;
    const settled = await (this.tasks.get(index) as Promise<Settled<T>>);
    this.tasks.delete(index);
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  /** Waits for the tasks still running (cancel them first) and drops every unread result. */
  async drain(): Promise<void> {
    await Promise.all(this.tasks.values());
    this.tasks.clear();
  }
}
