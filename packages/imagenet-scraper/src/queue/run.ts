/** A queue run's record in Redis: what every worker reads to join it, and its shared progress. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Settings } from '../options';
import type { CumulativeStats, GroupStats, StatsJson } from '../stats';
import { QueueError, type QueueKeys } from './connection';

/** The settings a worker takes from the run (everything but the caller's own objects). */
export type RunSettings = Omit<Settings, 'out' | 'classes' | 'urls' | 'signal' | 'onProgress'>;

export interface RunClass {
  wnid: string;
  name: string;
  folder: string;
}

/** `<prefix>:run:meta`: the run the queue holds. */
export interface RunMeta {
  runId: string;
  /** Of everything that decides the output: a rerun with the same inputs joins the run. */
  fingerprint: string;
  /** The output folder, as the coordinator sees it (workers may mount it elsewhere: `--out`). */
  out: string;
  host: string;
  createdAt: string;
  perClass: number;
  classes: RunClass[];
  settings: RunSettings;
  /** `stats.json` before the run: its totals continue them. */
  previous?: CumulativeStats;
}

/** A class as `scrape status` shows it. */
export interface ClassProgress {
  wnid: string;
  saved: number;
  tried: number;
  urls: number;
  state: 'waiting' | 'active' | 'parked' | 'final';
  short?: boolean;
  worker?: string;
}

/** `<out>/.scrape/queue.json`: tells a worker it sees the run's folder. */
export const folderMarker = (root: string) => path.join(root, 'queue.json');
/** The class's URL list, written once by the coordinator. */
export const urlsFile = (root: string, wnid: string) => path.join(root, 'queue', `${wnid}.json`);

/** What decides the saved set: the same inputs give the same fingerprint, and join the run. */
export function fingerprint(settings: Settings, lists: Map<string, string[]>): string {
  const hash = createHash('sha256');
  const s = settings;
  const decisive = {
    out: path.resolve(s.out),
    classes: s.classes.map((c) => [c.wnid, c.name]),
    perClass: s.perClass,
    flickrOnly: s.flickrOnly,
    format: [s.outputFormat, s.shardSize, s.shardPrefix],
    checks: [s.minBytes, s.maxBytes, s.minWidth, s.minHeight, s.maxPixels, s.respectNoAi],
    placeholders: [s.placeholderHashes, s.placeholderDistance],
    resize: s.resize ?? null,
  };
  hash.update(JSON.stringify(decisive));
  for (const c of s.classes) hash.update(`\n${c.wnid}\n${(lists.get(c.wnid) ?? []).join('\n')}`);
  return hash.digest('hex');
}

export function runSettings(settings: Settings): RunSettings {
  const { out: _o, classes: _c, urls: _u, signal: _s, onProgress: _p, ...rest } = settings;
  return rest;
}

export async function readMeta(redis: Redis, keys: QueueKeys): Promise<RunMeta | undefined> {
  const text = await redis.get(keys.key('meta'));
  return text ? (JSON.parse(text) as RunMeta) : undefined;
}

/** Checks that `out` is the run's folder (a worker on another machine may not see it). */
export async function checkFolder(out: string, meta: RunMeta): Promise<void> {
  const marker = await readFile(folderMarker(path.join(out, '.scrape')), 'utf8').catch(() => undefined);
  const runId = marker && (JSON.parse(marker) as { runId?: string }).runId;
  if (runId !== meta.runId)
    throw new QueueError(
      `out: ${out} is not the folder of the queue's run (${meta.out} on ${meta.host}${runId ? `; it holds run ${runId}` : ''}); mount that folder here and give it with --out`,
    );
}

/** The run's per-run keys (named by run id: a late write of an ended run touches nothing new). */
export const runKey = (keys: QueueKeys, meta: Pick<RunMeta, 'runId'>, ...parts: (string | number)[]) =>
  keys.key(meta.runId, ...parts);

// KEYS: final set, prefix. ARGV: rank. Classes become final in any order; `prefix` counts the
// leading run of final ranks, so "every class before mine is final" is one GET.
const FINALIZE = `
redis.call('SADD', KEYS[1], ARGV[1])
local p = tonumber(redis.call('GET', KEYS[2]) or '0')
while redis.call('SISMEMBER', KEYS[1], p) == 1 do p = p + 1 end
redis.call('SET', KEYS[2], p)
return p
`;

export async function markFinal(redis: Redis, keys: QueueKeys, meta: RunMeta, rank: number): Promise<number> {
  return Number(
    await redis.eval(FINALIZE, 2, runKey(keys, meta, 'final'), runKey(keys, meta, 'prefix'), rank),
  );
}

/** How many classes from the first are final. */
export async function finalPrefix(redis: Redis, keys: QueueKeys, meta: RunMeta): Promise<number> {
  return Number((await redis.get(runKey(keys, meta, 'prefix'))) ?? 0);
}

export async function classProgress(
  redis: Redis,
  keys: QueueKeys,
  meta: RunMeta,
): Promise<Map<string, ClassProgress>> {
  const all = await redis.hgetall(runKey(keys, meta, 'classes'));
  return new Map(Object.entries(all).map(([wnid, json]) => [wnid, JSON.parse(json) as ClassProgress]));
}

const addGroup = (a: GroupStats, b: GroupStats): GroupStats => {
  const failures = { ...a.failures };
  for (const [kind, n] of Object.entries(b.failures) as [keyof GroupStats['failures'], number][])
    failures[kind] = (failures[kind] ?? 0) + n;
  return {
    tried: a.tried + b.tried,
    succeeded: a.succeeded + b.succeeded,
    failed: a.failed + b.failed,
    duplicates: a.duplicates + b.duplicates,
    failures,
    bytes: a.bytes + b.bytes,
    timeMs: a.timeMs + b.timeMs,
  };
};

const emptyGroup = (): GroupStats => ({
  tried: 0,
  succeeded: 0,
  failed: 0,
  duplicates: 0,
  failures: {},
  bytes: 0,
  timeMs: 0,
});

/** Every worker's statistics, summed, over `seconds` of the run. */
export async function mergedStats(
  redis: Redis,
  keys: QueueKeys,
  meta: RunMeta,
  seconds: number,
): Promise<StatsJson> {
  const all = Object.values(await redis.hgetall(runKey(keys, meta, 'stats'))).map(
    (j) => JSON.parse(j) as StatsJson,
  );
  let flickr = emptyGroup();
  let other = emptyGroup();
  for (const s of all) {
    flickr = addGroup(flickr, s.flickr);
    other = addGroup(other, s.other);
  }
  const succeeded = flickr.succeeded + other.succeeded;
  return {
    seconds,
    tried: flickr.tried + other.tried,
    succeeded,
    imagesPerSecond: succeeded / Math.max(seconds, 1e-9),
    bytes: flickr.bytes + other.bytes,
    flickr,
    other,
  };
}

/** The class at `rank` of the run, or an error naming the job (a queue edited by hand). */
export function runClassAt(meta: RunMeta, rank: number): RunClass {
  const c = meta.classes[rank];
  if (!c) throw new QueueError(`queue: a job names class ${rank}, but the run has ${meta.classes.length}`);
  return c;
}
