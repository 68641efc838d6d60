import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  type AssembledBatch,
  BatchAssembler,
  type BatchMix,
  type BatchSource,
  type BatchTask,
  type Preprocessing,
} from './assemble';

export interface LoaderOptions {
  /** Worker threads assembling batches; 0 assembles on the calling thread. */
  workers: number;
  /** Batches requested ahead of the one being consumed. */
  prefetch?: number;
}

/** Where the compiled worker lives: beside this module in dist, or in dist when run from src. */
function workerFile(): string {
  const beside = path.join(__dirname, 'batch-worker.js');
  if (existsSync(beside)) return beside;
  const built = path.join(__dirname, '..', 'dist', 'batch-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`batch worker not found at ${beside}; build @resnet-ts/train first (npm run build)`);
}

type Pending = { resolve: (batch: AssembledBatch) => void; reject: (e: Error) => void };

/**
 * Turns index lists into input batches, in order, with `prefetch` batches in flight on worker
 * threads. Results never depend on the number of workers.
 */
export class BatchLoader {
  private readonly workers: Worker[] = [];
  private readonly local?: BatchAssembler;
  private readonly pending = new Map<number, Pending>();
  private readonly prefetch: number;
  private nextId = 0;
  private nextWorker = 0;
  /** Set once a worker died: every later request fails with it instead of waiting forever. */
  private failure?: Error;
  private closing = false;

  constructor(source: BatchSource, preprocessing: Preprocessing, options: LoaderOptions) {
    this.prefetch = Math.max(1, options.prefetch ?? 2 * Math.max(1, options.workers));
    if (options.workers <= 0) {
      this.local = new BatchAssembler(source, preprocessing);
      return;
    }
    const file = workerFile();
    for (let i = 0; i < options.workers; i++) {
      const worker = new Worker(file, { workerData: { source, preprocessing } });
      worker.on('message', (message: { id: number; batch?: AssembledBatch; error?: string }) => {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.batch) pending?.resolve(message.batch);
        else pending?.reject(new Error(message.error ?? 'batch worker failed'));
      });
      const fail = (error: Error) => {
        this.failure ??= error;
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closing)
          fail(new Error(`a batch worker exited (code ${code}); the loader cannot continue`));
      });
      this.workers.push(worker);
    }
  }

  private request(task: BatchTask): Promise<AssembledBatch> {
    if (this.local) return this.local.assemble(task);
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, task });
    });
  }

  /**
   * Yields one input batch per entry of `batches`, in order, keeping `prefetch` requests ahead.
   * With `mixing`, training batches are MixUp/CutMix-ed (labels from `mixing.labels`, batch numbers
   * counted from `mixing.firstBatch`, so a resumed epoch mixes as the uninterrupted one did).
   */
  async *batches(
    batches: Int32Array[],
    mode: BatchTask['mode'],
    seed: number,
    epoch: number,
    mixing?: Omit<BatchMix, 'labels' | 'batch'> & { labels: Int32Array; firstBatch: number },
  ): AsyncGenerator<AssembledBatch> {
    const queue: Promise<AssembledBatch>[] = [];
    let next = 0;
    const fill = () => {
      while (next < batches.length && queue.length < (this.local ? 1 : this.prefetch)) {
        const indices = batches[next] as Int32Array;
        const mix: BatchMix | undefined = mixing
          ? {
              mixup: mixing.mixup,
              cutmix: mixing.cutmix,
              classes: mixing.classes,
              labels: Int32Array.from(indices, (i) => mixing.labels[i] as number),
              batch: mixing.firstBatch + next,
            }
          : undefined;
        next++;
        const promise = this.request({ mode, seed, epoch, indices, mix });
        promise.catch(() => undefined); // surfaced when awaited in order
        queue.push(promise);
      }
    };
    fill();
    while (queue.length > 0) {
      const batch = await (queue.shift() as Promise<AssembledBatch>);
      fill();
      yield batch;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/** Splits an index order into consecutive batches (the last may be smaller). */
export function toBatches(order: Int32Array, batchSize: number): Int32Array[] {
  const batches: Int32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.subarray(i, i + batchSize));
  return batches;
}
