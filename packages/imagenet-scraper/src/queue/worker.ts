/**
 * `resnet scrape worker`: takes class jobs from a queue run (BullMQ) and scrapes each into the
 * run's output folder exactly as one machine would — the same stages, list-order commits and
 * exact quotas — with the run-wide rules shared through Redis: who keeps an image (`owners.ts`),
 * per-host limits and Retry-After (`hosts.ts`), and which classes are final. A class is worked on
 * by one worker at a time (the job's lock); a worker that dies leaves its job to BullMQ's
 * stalled-job check, and the next worker resumes the class from its manifest.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createCheck } from '../check';
import type { ClassInfo } from '../classes';
import { FolderSink } from '../commit';
import { createDownloader, type Downloader } from '../download';
import { Semaphore } from '../limits';
import { resolveOptions, type Settings } from '../options';
import { type StateLayout, stateLayout } from '../paths';
import { HELD_BYTES, type Pipeline, type RunContext, runClass } from '../pipeline';
import { reconcileClass } from '../reconcile';
import type { ClassWork, CommitSink, ScrapeObserver } from '../stages';
import { ScrapeStats } from '../stats';
import {
  bullConnection,
  connectRedis,
  type QueueAddress,
  QueueError,
  type QueueKeys,
  queueKeys,
  redisLost,
  shut,
} from './connection';
import { redisHostLimits } from './hosts';
import { type ClassLease, LeaseLostError, leaseClass } from './lease';
import { RedisOwners } from './owners';
import {
  type ClassProgress,
  checkFolder,
  finalPrefix,
  markFinal,
  type RunMeta,
  readMeta,
  runClassAt,
  runKey,
  urlsFile,
} from './run';

export interface WorkerOptions {
  queue: QueueAddress;
  /** Classes worked on at once (default 4); they share the download budget. */
  classesAtOnce?: number;
  /** Downloads in flight at once across them. Default: the run's `concurrency`. */
  concurrency?: number;
  /** Decoded pixels held at once, bytes. Default: the run's. */
  decodeMemoryBytes?: number;
  /** The run's output folder as mounted on this machine. Default: the coordinator's path. */
  out?: string;
  /** Keep waiting for later runs once this one ends. Default: return when it ends. */
  serve?: boolean;
  /**
   * A worker silent this long is presumed dead and its classes go to others (BullMQ's lock).
   * Default 30 s; the stalled check runs every `lockMs / 2`.
   */
  lockMs?: number;
  signal?: AbortSignal;
  /** One line per class started, parked or ended, for a log. */
  onEvent?: (event: WorkerEvent) => void;
}

export interface WorkerEvent {
  kind: 'joined' | 'started' | 'parked' | 'final' | 'stopped';
  wnid?: string;
  saved?: number;
  message: string;
}

export interface WorkerReport {
  /** Classes this worker ended (made final). */
  classes: number;
  stats: ReturnType<ScrapeStats['toJSON']>;
}

/** A sink that checks the class's lease before each write (see `lease.ts`). */
function fenced(sink: CommitSink, lease: ClassLease): CommitSink {
  return {
    commit: async (work, outcome) => {
      await lease.check();
      return sink.commit(work, outcome);
    },
    unneeded: async (work, urls) => {
      await lease.check();
      return sink.unneeded(work, urls);
    },
    revoke: async (work, holder, sha256) => {
      await lease.check();
      return sink.revoke(work, holder, sha256);
    },
  };
}

/** An image a class holds, by URL. */
interface ClassImage {
  sha256: string;
  file?: string;
}

/** A full class waits this long for the classes before it, then gives its slot to another class. */
const PARK_MS = 2000;
const POLL_MS = 250;
const FLUSH_MS = 1000;

/** What one worker holds for the run it serves. */
interface RunHandle {
  /** This worker, in statistics, progress and temp file names: `<host>-<pid>-<random>`. */
  id: string;
  meta: RunMeta;
  out: string;
  settings: Settings;
  layout: StateLayout;
  downloader: Downloader;
  check: ReturnType<typeof createCheck>;
  owners: RedisOwners;
  stats: ScrapeStats;
  held: { bytes: number };
  /** How long a class's lease lasts unrenewed (the worker's `lockMs`). */
  lockMs: number;
  progress: Map<string, ClassProgress>;
  ended: number;
}

async function openRun(
  redis: Redis,
  keys: QueueKeys,
  meta: RunMeta,
  options: WorkerOptions,
  id: string,
): Promise<RunHandle> {
  const out = options.out ?? meta.out;
  await checkFolder(out, meta);
  const classes: ClassInfo[] = meta.classes.map((c) => ({ wnid: c.wnid, name: c.name }));
  const settings = resolveOptions({
    ...meta.settings,
    out,
    classes,
    urls: new Map(),
    perClass: meta.perClass,
    concurrency: options.concurrency ?? meta.settings.concurrency,
    decodeMemoryBytes: options.decodeMemoryBytes ?? meta.settings.decodeMemoryBytes,
  });
  const base = stateLayout(out);
  // Workers on several machines share the folder: a temp file names its host as well as its pid.
  const layout = {
    ...base,
    tempFile: (wnid: string, i: number) => path.join(base.temp, `${wnid}-${i}-${id}`),
  };
  const hosts = redisHostLimits(redis, { prefix: runKey(keys, meta, ''), perHost: settings.perHost });
  return {
    id,
    meta,
    out,
    settings,
    layout,
    downloader: createDownloader(settings, hosts),
    check: createCheck(settings),
    owners: new RedisOwners(redis, keys, meta.runId),
    stats: new ScrapeStats(),
    held: { bytes: 0 },
    lockMs: options.lockMs ?? 30_000,
    progress: new Map(),
    ended: 0,
  };
}

/** A class's images as its manifest and folder hold them, with the queue's rules applied. */
async function openClass(
  run: RunHandle,
  rank: number,
  sink: CommitSink,
): Promise<{ work: ClassWork; ok: Map<string, ClassImage> }> {
  const { meta, out, layout, owners, settings } = run;
  const c = runClassAt(meta, rank);
  const info = { wnid: c.wnid, name: c.name };
  // Temp files of this class's earlier holder (a killed worker): the class is ours now.
  for (const name of await readdir(layout.temp).catch(() => [] as string[]))
    if (name.startsWith(`${c.wnid}-`)) await rm(path.join(layout.temp, name), { force: true });
  const urls = JSON.parse(await readFile(urlsFile(layout.root, c.wnid), 'utf8')) as string[];
  const classDir = path.join(out, c.folder);
  const manifest = layout.manifest(c.wnid);
  let state = await reconcileClass(classDir, manifest, c.wnid, new Map());
  const shell: ClassWork = { info, folder: c.folder, urls, pending: [], saved: 0, unneeded: state.unneeded };
  // Claims a killed worker made for this class but never committed: the displaced holder returns.
  const mine = new Set(state.images.map((e) => e.sha256));
  for (const sha of await owners.claims(rank)) if (!mine.has(sha)) await owners.drop(sha, rank);
  // Each image on disk: still ours (its give-backs queued, in case a kill came first), or an
  // earlier class's, given back as on one machine.
  let changed = false;
  for (const e of state.images) {
    if (!e.sha256) continue;
    const claimed = await owners.claim(e.sha256, rank, e.url);
    if (claimed.ok) await owners.pushRevocations(e.sha256, rank);
    else {
      await sink.revoke(shell, { rank, url: e.url, file: e.file }, e.sha256);
      changed = true;
    }
  }
  const queued = await owners.revocations(rank);
  for (const r of queued) {
    const held = state.images.find((e) => e.url === r.url && e.sha256 === r.sha256);
    if (held) {
      await sink.revoke(shell, { rank, url: r.url, file: held.file }, r.sha256);
      changed = true;
    }
  }
  await owners.doneRevocations(rank, queued.length);
  if (changed) state = await reconcileClass(classDir, manifest, c.wnid, new Map());
  const kept = urls.filter((u) => !settings.flickrOnly || ScrapeStats.group(u) === 'flickr');
  const work: ClassWork = {
    ...shell,
    urls: kept,
    pending: kept.filter((u) => !state.settled.has(u)),
    saved: state.owned.size,
    unneeded: state.unneeded,
  };
  const ok = new Map(state.images.map((e) => [e.url, { sha256: e.sha256 ?? '', file: e.file }]));
  return { work, ok };
}

/** Counts into the worker's statistics and the class's progress; tracks the class's images. */
function classObserver(run: RunHandle, progress: ClassProgress, ok: Map<string, ClassImage>): ScrapeObserver {
  return {
    settled: ({ entry, timeMs, saved }) => {
      run.stats.record(entry.url, { status: entry.status, kind: entry.kind, bytes: entry.bytes, timeMs });
      if (entry.status === 'ok') ok.set(entry.url, { sha256: entry.sha256 ?? '', file: entry.file });
      progress.saved = saved;
      progress.tried++;
    },
    revoked: ({ entry, saved }) => {
      run.stats.revoke(entry.url);
      ok.delete(entry.url);
      progress.saved = saved;
    },
  };
}

async function scrapeClass(
  redis: Redis,
  keys: QueueKeys,
  run: RunHandle,
  rank: number,
  stop: AbortSignal,
  onEvent: (event: WorkerEvent) => void,
): Promise<'final' | 'parked' | 'stopped' | 'busy'> {
  const { meta } = run;
  const classStop = new AbortController();
  const lease = await leaseClass(redis, runKey(keys, meta, 'lease', rank), run.lockMs, (error) =>
    classStop.abort(error),
  );
  if (!lease) return 'busy'; // its last holder's lease has not lapsed yet
  try {
    return await scrapeLeased(
      redis,
      keys,
      run,
      rank,
      AbortSignal.any([stop, classStop.signal]),
      onEvent,
      lease,
    );
  } finally {
    await lease.release();
  }
}

async function scrapeLeased(
  redis: Redis,
  keys: QueueKeys,
  run: RunHandle,
  rank: number,
  stop: AbortSignal,
  onEvent: (event: WorkerEvent) => void,
  lease: ClassLease,
): Promise<'final' | 'parked' | 'stopped'> {
  const { meta, settings, owners } = run;
  const sink = fenced(new FolderSink(run.out, run.layout), lease);
  const { work, ok } = await openClass(run, rank, sink);
  const { wnid } = work.info;
  const progress: ClassProgress = {
    wnid,
    saved: work.saved,
    tried: 0,
    urls: work.urls.length,
    state: 'active',
    worker: run.id,
  };
  run.progress.set(wnid, progress);
  onEvent({
    kind: 'started',
    wnid,
    saved: work.saved,
    message: `${wnid} started (${work.saved}/${meta.perClass})`,
  });
  const commits = new Semaphore(1);
  const dedup = owners.forClass(rank);
  let giveBack: ((sha256: string, url: string, file?: string) => Promise<void>) | undefined;
  // Give-backs another class queued for this one: applied under the class's commit lock.
  const drain = async () => {
    const queued = await owners.revocations(rank);
    if (queued.length === 0) return;
    const release = await commits.acquire();
    try {
      for (const r of queued) {
        const image = ok.get(r.url);
        if (image?.sha256 === r.sha256) await giveBack?.(r.sha256, r.url, image.file);
      }
    } finally {
      release();
    }
    await owners.doneRevocations(rank, queued.length);
  };
  const earlier = (async () => {
    while (!stop.aborted && (await finalPrefix(redis, keys, meta)) < rank) await sleep(POLL_MS);
    await drain(); // every earlier class is final: its give-backs are all queued by now
  })();
  earlier.catch(() => undefined);
  const poller = setInterval(() => void drain().catch(() => undefined), POLL_MS);
  const pipeline: Pipeline = {
    download: run.downloader.download,
    check: run.check,
    dedup,
    sink,
    observers: [classObserver(run, progress, ok)],
    perClass: meta.perClass,
    concurrency: settings.concurrency,
    heldBytes: HELD_BYTES,
    signal: stop,
  };
  const context: RunContext = {
    rank,
    commits,
    held: run.held,
    stop,
    earlier,
    revoke: (_holder, sha256) => dedup.revoke(sha256),
    parkAfterMs: PARK_MS,
  };
  try {
    const report = await runClass(pipeline, work, context, (handle) => {
      giveBack = (sha256, url, file) => handle.giveBack({ rank, url, file }, sha256);
    });
    // Off this worker's list: a later flush here must not overwrite what the next holder writes.
    run.progress.delete(wnid);
    if (stop.aborted) {
      progress.state = 'waiting';
      // A lost lease: the class's progress is its new holder's to write.
      if (!(stop.reason instanceof LeaseLostError))
        await redis.hset(runKey(keys, meta, 'classes'), wnid, JSON.stringify(progress));
      return 'stopped';
    }
    if (report.parked) {
      progress.state = 'parked';
      await redis.hset(runKey(keys, meta, 'classes'), wnid, JSON.stringify(progress));
      onEvent({ kind: 'parked', wnid, saved: report.saved, message: `${wnid} waits for earlier classes` });
      return 'parked';
    }
    progress.state = 'final';
    progress.short = report.short;
    await redis.hset(runKey(keys, meta, 'classes'), wnid, JSON.stringify(progress));
    await flush(redis, keys, run); // the class's statistics are in before anyone sees it final
    await markFinal(redis, keys, meta, rank);
    run.ended++;
    onEvent({
      kind: 'final',
      wnid,
      saved: report.saved,
      message: `${wnid} done: ${report.saved}/${meta.perClass}`,
    });
    return 'final';
  } finally {
    clearInterval(poller);
  }
}

/** Statistics, class progress and a heartbeat into Redis (every second, and at the end). */
async function flush(redis: Redis, keys: QueueKeys, run: RunHandle): Promise<void> {
  const batch = redis.multi();
  const key = (name: string) => runKey(keys, run.meta, name);
  batch.hset(key('stats'), run.id, JSON.stringify(run.stats.toJSON()));
  for (const p of run.progress.values())
    if (p.state !== 'final') batch.hset(key('classes'), p.wnid, JSON.stringify(p));
  batch.hset(key('workers'), run.id, JSON.stringify({ at: Date.now(), pid: process.pid }));
  // Renewed while the run lives; a write after the run ended is gone within a day.
  for (const name of ['stats', 'classes', 'workers']) batch.expire(key(name), 86_400);
  await batch.exec();
}

/**
 * Serves the queue's run until it ends (or `signal` aborts; or with `serve`, until then). Throws
 * a `QueueError` when Redis cannot be reached or goes away: what is committed stays, nothing is
 * half-written, and the classes in hand return to the queue for any worker.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerReport> {
  const keys = queueKeys(options.queue);
  const url = options.queue.url;
  const redis = await connectRedis(url);
  const stopAll = new AbortController();
  const stop = options.signal ? AbortSignal.any([options.signal, stopAll.signal]) : stopAll.signal;
  const onEvent = options.onEvent ?? (() => undefined);
  const id = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  const startedAt = Date.now();
  let lost: unknown;
  redis.on('end', () => {
    lost ??= redisLost(url);
    stopAll.abort(lost);
  });
  let run: RunHandle | undefined;
  let worker: Worker | undefined;
  const classes = { ended: 0 };
  const stats = new ScrapeStats();
  try {
    for (;;) {
      const meta = await waitForRun(redis, keys, stop, options.serve ? undefined : startedAt);
      if (!meta) break;
      run = await openRun(redis, keys, meta, options, id);
      onEvent({
        kind: 'joined',
        message: `joined run ${meta.runId} (${meta.classes.length} classes, out ${run.out})`,
      });
      // Ends a class still in hand once the run is over (a job handed out twice, its class final).
      const runOver = new AbortController();
      worker = startWorker(redis, keys, run, options, AbortSignal.any([stop, runOver.signal]), onEvent);
      await serveUntilEnded(redis, keys, run, stop);
      runOver.abort();
      // Not forced: stopped classes return their jobs to the queue before the worker goes.
      await shut(worker, { withinMs: 30_000 });
      worker = undefined;
      await flush(redis, keys, run).catch(() => undefined);
      await run.downloader.close();
      classes.ended += run.ended;
      Object.assign(stats.groups, run.stats.groups);
      run = undefined;
      if (!options.serve || stop.aborted) break;
    }
  } catch (error) {
    // A command refused while the connection is down: Redis is going away, not a bug of ours.
    if (!lost && redis.status === 'ready') throw error;
    lost ??= redisLost(url, error);
  } finally {
    stopAll.abort(lost); // the classes in hand stop; their commits so far stay
    if (worker) await shut(worker, { force: true });
    if (run) {
      await flush(redis, keys, run).catch(() => undefined);
      await run.downloader.close();
    }
    redis.disconnect();
  }
  if (lost) throw lost;
  return { classes: classes.ended, stats: stats.toJSON() };
}

/**
 * The queue's run, once there is one (waits for a coordinator); undefined when stopped, or when
 * a run ended since `since` (it started and ended before this worker saw it: nothing left to do).
 */
async function waitForRun(
  redis: Redis,
  keys: QueueKeys,
  stop: AbortSignal,
  since?: number,
): Promise<RunMeta | undefined> {
  while (!stop.aborted) {
    const meta = await readMeta(redis, keys);
    if (meta) return meta;
    const ended = await redis.get(keys.key('ended'));
    if (since !== undefined && ended && (JSON.parse(ended) as { at: number }).at >= since) return undefined;
    await sleep(500, undefined, { signal: stop }).catch(() => undefined);
  }
  return undefined;
}

/** Resolves when every class of the run is final, the run is gone, or `stop` aborts. */
async function serveUntilEnded(
  redis: Redis,
  keys: QueueKeys,
  run: RunHandle,
  stop: AbortSignal,
): Promise<void> {
  while (!stop.aborted) {
    await flush(redis, keys, run);
    const meta = await readMeta(redis, keys);
    if (meta?.runId !== run.meta.runId) return;
    if ((await finalPrefix(redis, keys, run.meta)) >= run.meta.classes.length) return;
    await sleep(FLUSH_MS, undefined, { signal: stop }).catch(() => undefined);
  }
}

function startWorker(
  redis: Redis,
  keys: QueueKeys,
  run: RunHandle,
  options: WorkerOptions,
  stop: AbortSignal,
  onEvent: (event: WorkerEvent) => void,
): Worker {
  const lockMs = options.lockMs ?? 30_000;
  const worker = new Worker(
    keys.name,
    async (job: Job<{ runId: string; rank: number }>, token?: string, jobSignal?: AbortSignal) => {
      if (job.data.runId !== run.meta.runId)
        throw new QueueError(`queue: job ${job.id} is of run ${job.data.runId}, not ${run.meta.runId}`);
      const signal = jobSignal ? AbortSignal.any([stop, jobSignal]) : stop;
      const ended = await scrapeClass(redis, keys, run, job.data.rank, signal, onEvent);
      if (ended === 'final') return { rank: job.data.rank };
      // Parked, stopped or still leased by a stalled holder: back to the queue, for any worker.
      const pause = { parked: 500, busy: Math.floor(run.lockMs / 3), stopped: 0 }[ended];
      await job.moveToDelayed(Date.now() + pause, token);
      throw new DelayedError();
    },
    {
      connection: bullConnection(options.queue.url),
      prefix: keys.prefix,
      concurrency: options.classesAtOnce ?? 4,
      lockDuration: lockMs,
      stalledInterval: Math.max(1000, Math.floor(lockMs / 2)),
      // A class is never given up for its workers' deaths: each restart resumes it.
      maxStalledCount: 1000,
    },
  );
  worker.on('error', () => undefined); // connection errors: `redis` 'end' stops the run
  return worker;
}
