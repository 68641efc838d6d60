/**
 * `resnet scrape --queue`: splits a scrape into one job per class on a BullMQ queue, waits while
 * workers (`runWorker`, any number, on any machines that see the output folder) do them, and
 * writes the same files a single-machine run writes: the class folders and manifests (the
 * workers'), `stats.json` merged from every worker, and the report. A rerun of the same command
 * joins the run in progress instead of starting again; a queue holding another run is refused.
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { writeFileAtomic } from '../atomic';
import { ScrapeConfigError, writeFailed } from '../errors';
import { lockOutput } from '../lock';
import { resolveOptions, type Settings } from '../options';
import { type StateLayout, stateLayout } from '../paths';
import { reconcile } from '../reconcile';
import type { ClassReport, ScrapeOptions, ScrapeReport } from '../scrape';
import { cumulativeStats, readStats } from '../stats';
import {
  bullConnection,
  connectRedis,
  type QueueAddress,
  QueueError,
  type QueueKeys,
  queueKeys,
  redisLost,
  shownUrl,
  shut,
} from './connection';
import { RedisOwners } from './owners';
import {
  classProgress,
  finalPrefix,
  fingerprint,
  folderMarker,
  mergedStats,
  type RunMeta,
  readMeta,
  runKey,
  runSettings,
  urlsFile,
} from './run';

export interface QueueScrapeOptions extends ScrapeOptions {
  queue: QueueAddress;
}

const describeRun = (meta: RunMeta) =>
  `out ${meta.out} on ${meta.host}, ${meta.classes.length} classes × ${meta.perClass}, since ${meta.createdAt}`;

/** A new run: the output reconciled (no worker has jobs yet), URL lists written, owners seeded. */
async function createRun(
  redis: Redis,
  keys: QueueKeys,
  settings: Settings,
  layout: StateLayout,
  print: string,
): Promise<RunMeta> {
  const { work, seen } = await reconcile({ ...settings, layout });
  await mkdir(`${layout.root}/queue`, { recursive: true });
  for (const w of work) await writeFileAtomic(urlsFile(layout.root, w.info.wnid), JSON.stringify(w.urls));
  const runId = `${print.slice(0, 12)}-${Date.now().toString(36)}`;
  const meta: RunMeta = {
    runId,
    fingerprint: print,
    out: settings.out,
    host: os.hostname(),
    createdAt: new Date().toISOString(),
    perClass: settings.perClass,
    classes: work.map((w) => ({ wnid: w.info.wnid, name: w.info.name, folder: w.folder })),
    settings: runSettings(settings),
    previous: await readStats(layout.stats),
  };
  await writeFileAtomic(folderMarker(layout.root), JSON.stringify({ runId }));
  await new RedisOwners(redis, keys, runId).seed(seen);
  return meta;
}

/** The queue's run for these inputs: joined if it is this one, created if there is none. */
async function openRun(redis: Redis, keys: QueueKeys, settings: Settings, layout: StateLayout, url: string) {
  const print = fingerprint(settings, settings.urls);
  const refuse = (meta: RunMeta) =>
    new QueueError(
      `queue: "${keys.name}" on ${shownUrl(url)} holds another run (${describeRun(meta)}); let it end, or give another queue name (--queue-name)`,
    );
  const existing = await readMeta(redis, keys);
  if (existing && existing.fingerprint !== print) throw refuse(existing);
  if (existing) return { meta: existing, joined: true };
  const meta = await createRun(redis, keys, settings, layout, print);
  // Two coordinators at once: the first to write the record owns the queue.
  if ((await redis.set(keys.key('meta'), JSON.stringify(meta), 'NX')) === null) {
    const other = await readMeta(redis, keys);
    if (other && other.fingerprint !== print) throw refuse(other);
    if (other) return { meta: other, joined: true };
  }
  return { meta, joined: false };
}

/** Removes the run from Redis once every class is final (its files are the record now). */
async function removeRun(redis: Redis, queue: Queue, keys: QueueKeys, meta: RunMeta): Promise<void> {
  await queue.obliterate({ force: true });
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${runKey(keys, meta, '')}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== '0');
  // Told to workers that started while it ran but joined too late to see it: they end with it.
  await redis.set(keys.key('ended'), JSON.stringify({ runId: meta.runId, at: Date.now() }), 'EX', 3600);
  await redis.del(keys.key('meta'));
}

/**
 * Scrapes `options` through the queue at `options.queue`: jobs for the workers, then waits for
 * every class to be final. Same result as `scrape` with the same inputs; throws a `QueueError`
 * when Redis cannot be reached, goes away, or holds another run.
 */
export async function scrapeWithQueue(options: QueueScrapeOptions): Promise<ScrapeReport> {
  const settings = resolveOptions(options);
  if (settings.outputFormat !== 'folder')
    throw new ScrapeConfigError('outputFormat: a queue run writes class folders; give outputFormat folder');
  if (settings.debugCsv)
    throw new ScrapeConfigError('debugCsv: not written by a queue run (workers on several machines)');
  const keys = queueKeys(options.queue);
  const redis = await connectRedis(options.queue.url);
  const layout = stateLayout(settings.out);
  let lost: QueueError | undefined;
  redis.on('end', () => {
    lost ??= redisLost(options.queue.url);
  });
  try {
    await mkdir(layout.root, { recursive: true }).catch((error: unknown) => {
      throw writeFailed(settings.out, error);
    });
    const lock = await lockOutput(settings.out, layout.lock);
    try {
      return await coordinate(redis, keys, settings, layout, options.queue.url, () => lost);
    } catch (error) {
      throw lost ?? (redis.status === 'ready' ? error : redisLost(options.queue.url, error));
    } finally {
      await lock.release();
    }
  } finally {
    redis.disconnect();
  }
}

async function coordinate(
  redis: Redis,
  keys: QueueKeys,
  settings: Settings,
  layout: StateLayout,
  url: string,
  lost: () => QueueError | undefined,
): Promise<ScrapeReport> {
  const { meta, joined } = await openRun(redis, keys, settings, layout, url);
  const queue = new Queue(keys.name, { connection: bullConnection(url), prefix: keys.prefix });
  queue.on('error', () => undefined); // reported through `lost`
  const startedAt = Date.parse(meta.createdAt);
  const seconds = () => (Date.now() - startedAt) / 1000;
  const writeStats = async () => {
    const current = await mergedStats(redis, keys, meta, seconds());
    await writeFileAtomic(layout.stats, JSON.stringify(cumulativeStats(meta.previous, current), null, 2));
    return current;
  };
  try {
    // Idempotent: a job id already in the queue is not added twice.
    await queue.addBulk(
      meta.classes.map((c, rank) => ({
        name: c.wnid,
        data: { runId: meta.runId, rank },
        opts: {
          jobId: `${meta.runId}-${rank}`,
          attempts: 3,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: false,
        },
      })),
    );
    if (joined) for (const job of await queue.getFailed()) await job.retry();
    await redis.set(keys.key('meta'), JSON.stringify(meta)); // the record, whole, once the jobs exist
    let lastStats = 0;
    let totalSaved = -1;
    while ((await finalPrefix(redis, keys, meta)) < meta.classes.length) {
      const failure = lost();
      if (failure) throw failure;
      if (settings.signal?.aborted) break;
      const failed = await queue.getFailed(0, 0);
      if (failed[0])
        throw new QueueError(
          `queue: class ${failed[0].name} failed on a worker: ${failed[0].failedReason}; run the same command again to retry it`,
        );
      const progress = await classProgress(redis, keys, meta);
      const saved = [...progress.values()].reduce((n, p) => n + p.saved, 0);
      if (Date.now() - lastStats >= settings.statsEveryMs) {
        lastStats = Date.now();
        const stats = await writeStats();
        if (settings.onProgress && saved !== totalSaved)
          settings.onProgress({
            wnid: '',
            folder: '',
            saved,
            perClass: meta.perClass,
            totalSaved: saved,
            totalQuota: meta.perClass * meta.classes.length,
            stats,
          });
        totalSaved = saved;
      }
      await sleep(250, undefined, { signal: settings.signal }).catch(() => undefined);
    }
    const progress = await classProgress(redis, keys, meta);
    const stats = await writeStats();
    const classes: Record<string, ClassReport> = {};
    for (const c of meta.classes) {
      const p = progress.get(c.wnid);
      classes[c.wnid] = {
        name: c.name,
        folder: c.folder,
        saved: p?.saved ?? 0,
        urls: p?.urls ?? 0,
        short: p?.short ?? false,
      };
    }
    if (!settings.signal?.aborted) {
      await removeRun(redis, queue, keys, meta);
      await rm(`${layout.root}/queue`, { recursive: true, force: true });
      await rm(folderMarker(layout.root), { force: true });
    }
    return { classes, stats };
  } finally {
    await shut(queue);
  }
}
