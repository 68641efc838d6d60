import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StatsJson } from '../stats';
import { bullConnection, connectRedis, type QueueAddress, queueKeys, shut } from './connection';
import { type ClassProgress, classProgress, finalPrefix, mergedStats, readMeta, runKey } from './run';

/** A queue run as `resnet scrape status` shows it. */
export interface QueueStatus {
  /** Undefined: the queue holds no run (none started, or the last one ended). */
  run?: {
    runId: string;
    out: string;
    host: string;
    createdAt: string;
    perClass: number;
    /** Classes from the first that are final. */
    finalPrefix: number;
    classes: (ClassProgress & { name: string; folder: string })[];
    jobs: Record<string, number>;
    /** Workers heard from in the last 10 s. */
    workers: { id: string; secondsAgo: number }[];
    stats: StatsJson;
  };
}

async function readWorkers(redis: Redis, key: string) {
  const all = await redis.hgetall(key);
  return Object.entries(all)
    .map(([id, json]) => ({ id, secondsAgo: (Date.now() - (JSON.parse(json) as { at: number }).at) / 1000 }))
    .filter((w) => w.secondsAgo < 10)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Progress per class, job counts, live workers and merged statistics of the queue's run. */
export async function queueStatus(address: QueueAddress): Promise<QueueStatus> {
  const keys = queueKeys(address);
  const redis = await connectRedis(address.url);
  try {
    const meta = await readMeta(redis, keys);
    if (!meta) return {};
    const queue = new Queue(keys.name, { connection: bullConnection(address.url), prefix: keys.prefix });
    queue.on('error', () => undefined);
    try {
      const progress = await classProgress(redis, keys, meta);
      const jobs = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      return {
        run: {
          runId: meta.runId,
          out: meta.out,
          host: meta.host,
          createdAt: meta.createdAt,
          perClass: meta.perClass,
          finalPrefix: await finalPrefix(redis, keys, meta),
          classes: meta.classes.map((c) => ({
            ...(progress.get(c.wnid) ?? {
              wnid: c.wnid,
              saved: 0,
              tried: 0,
              urls: 0,
              state: 'waiting' as const,
            }),
            name: c.name,
            folder: c.folder,
          })),
          jobs,
          workers: await readWorkers(redis, runKey(keys, meta, 'workers')),
          stats: await mergedStats(redis, keys, meta, (Date.now() - Date.parse(meta.createdAt)) / 1000),
        },
      };
    } finally {
      await shut(queue);
    }
  } finally {
    redis.disconnect();
  }
}
