/** `resnet scrape worker` and `resnet scrape status`: the queue side of `resnet scrape --queue`. */
import type { Io } from '../io';

export interface QueueFlags {
  queue: string;
  queueName?: string;
  json?: boolean;
}

export interface WorkerFlags extends QueueFlags {
  classesAtOnce?: number;
  concurrency?: number;
  decodeMemory?: number;
  out?: string;
  serve?: boolean;
  lockTimeout?: number;
}

// Loaded only here: a single-machine scrape never loads BullMQ.
const queueModule = () => import('@resnet-ts/imagenet-scraper/queue');

export async function runScrapeWorker(flags: WorkerFlags, io: Io): Promise<number> {
  const { runWorker } = await queueModule();
  const abort = new AbortController();
  const removeHandler = io.onInterrupt(() => {
    io.stderr('\nresnet: worker stopping; its classes go back to the queue, nothing is left half-written\n');
    abort.abort();
  });
  try {
    const report = await runWorker({
      queue: { url: flags.queue, name: flags.queueName },
      classesAtOnce: flags.classesAtOnce,
      concurrency: flags.concurrency,
      decodeMemoryBytes: flags.decodeMemory === undefined ? undefined : flags.decodeMemory * 2 ** 20,
      out: flags.out,
      serve: flags.serve,
      lockMs: flags.lockTimeout,
      signal: abort.signal,
      onEvent: (event) => {
        if (!flags.json) io.stderr(`${event.message}\n`);
      },
    });
    if (flags.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else
      io.stdout(
        `worker: ${report.classes} classes ended here; ${report.stats.succeeded} saved of ${report.stats.tried} tried in ${report.stats.seconds.toFixed(1)} s\n`,
      );
    return abort.signal.aborted ? 130 : 0;
  } finally {
    removeHandler();
  }
}

export async function runScrapeStatus(flags: QueueFlags, io: Io): Promise<number> {
  const { queueStatus } = await queueModule();
  const status = await queueStatus({ url: flags.queue, name: flags.queueName });
  if (flags.json) {
    io.stdout(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  const { run } = status;
  if (!run) {
    io.stdout(`queue "${flags.queueName ?? 'scrape'}" holds no run (none started, or the last one ended)\n`);
    return 0;
  }
  const saved = run.classes.reduce((n, c) => n + c.saved, 0);
  const final = run.classes.filter((c) => c.state === 'final').length;
  io.stdout(
    `run ${run.runId}: out ${run.out} on ${run.host}, since ${run.createdAt}\n` +
      `${saved}/${run.perClass * run.classes.length} images, ${final}/${run.classes.length} classes done; ` +
      `${run.stats.tried} URLs tried, ${run.stats.imagesPerSecond.toFixed(1)} img/s; ` +
      `jobs ${Object.entries(run.jobs)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ')}; ${run.workers.length} workers live\n`,
  );
  for (const c of run.classes)
    io.stdout(
      `${c.wnid} ${c.folder}: ${c.saved}/${run.perClass} ${c.state}${c.short ? ` (only ${c.urls} URLs; ran out)` : ''}${c.worker && c.state !== 'final' ? ` on ${c.worker}` : ''}\n`,
    );
  return 0;
}
