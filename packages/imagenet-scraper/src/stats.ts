import { readFile } from 'node:fs/promises';
import type { ErrorKind, TriedStatus } from './errors';

export interface GroupStats {
  tried: number;
  succeeded: number;
  failed: number;
  duplicates: number;
  failures: Partial<Record<ErrorKind, number>>;
  bytes: number;
  /** Summed request time, ms. */
  timeMs: number;
}

const emptyGroup = (): GroupStats => ({
  tried: 0,
  succeeded: 0,
  failed: 0,
  duplicates: 0,
  failures: {},
  bytes: 0,
  timeMs: 0,
});

/** The original project's statistics, split by Flickr vs other hosts, plus bytes and throughput. */
export class ScrapeStats {
  readonly groups = { flickr: emptyGroup(), other: emptyGroup() };
  readonly startedAt = Date.now();

  static group(url: string): 'flickr' | 'other' {
    try {
      return /(^|\.)(flickr\.com|staticflickr\.com)$/.test(new URL(url).hostname) ? 'flickr' : 'other';
    } catch {
      return 'other';
    }
  }

  record(
    url: string,
    outcome: { status: TriedStatus; kind?: ErrorKind; bytes?: number; timeMs: number },
  ): void {
    const g = this.groups[ScrapeStats.group(url)];
    g.tried++;
    g.timeMs += outcome.timeMs;
    g.bytes += outcome.bytes ?? 0;
    if (outcome.status === 'ok') g.succeeded++;
    else if (outcome.status === 'duplicate') g.duplicates++;
    else {
      g.failed++;
      if (outcome.kind) g.failures[outcome.kind] = (g.failures[outcome.kind] ?? 0) + 1;
    }
  }

  /** An image counted as saved that a class earlier in the order took back: now a duplicate. */
  revoke(url: string): void {
    const g = this.groups[ScrapeStats.group(url)];
    g.succeeded--;
    g.duplicates++;
  }

  get tried(): number {
    return this.groups.flickr.tried + this.groups.other.tried;
  }

  get succeeded(): number {
    return this.groups.flickr.succeeded + this.groups.other.succeeded;
  }

  toJSON() {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return {
      seconds,
      tried: this.tried,
      succeeded: this.succeeded,
      imagesPerSecond: this.succeeded / Math.max(seconds, 1e-9),
      bytes: this.groups.flickr.bytes + this.groups.other.bytes,
      ...this.groups,
    };
  }
}

export type StatsJson = ReturnType<ScrapeStats['toJSON']>;

/** `stats.json`: the totals of every run on the output folder, and this run's own figures. */
export type CumulativeStats = StatsJson & {
  /** Runs counted in the totals, this one included. */
  runs: number;
  thisRun: Pick<StatsJson, 'seconds' | 'tried' | 'succeeded' | 'imagesPerSecond'>;
};

const isGroup = (g: unknown): g is GroupStats =>
  typeof g === 'object' &&
  g !== null &&
  ['tried', 'succeeded', 'failed', 'duplicates', 'bytes', 'timeMs'].every(
    (k) => typeof (g as Record<string, unknown>)[k] === 'number',
  ) &&
  typeof (g as GroupStats).failures === 'object';

/** An earlier run's `stats.json`, or undefined (none, or not one this package wrote). */
export async function readStats(file: string): Promise<CumulativeStats | undefined> {
  let value: Partial<CumulativeStats>;
  try {
    value = JSON.parse(await readFile(file, 'utf8')) as Partial<CumulativeStats>;
  } catch {
    return undefined;
  }
  if (typeof value.seconds !== 'number' || !isGroup(value.flickr) || !isGroup(value.other)) return undefined;
  return { ...(value as CumulativeStats), runs: typeof value.runs === 'number' ? value.runs : 1 };
}

const addGroups = (a: GroupStats, b: GroupStats): GroupStats => {
  const failures: GroupStats['failures'] = { ...a.failures };
  for (const [kind, n] of Object.entries(b.failures) as [ErrorKind, number][])
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

/**
 * This run's statistics on top of the earlier runs' (a resume continues the totals): seconds are
 * the runs' own, summed, so images/s is over the time spent scraping.
 */
export function cumulativeStats(previous: CumulativeStats | undefined, current: StatsJson): CumulativeStats {
  const { seconds, tried, succeeded, imagesPerSecond } = current;
  const thisRun = { seconds, tried, succeeded, imagesPerSecond };
  if (!previous) return { ...current, runs: 1, thisRun };
  const flickr = addGroups(previous.flickr, current.flickr);
  const other = addGroups(previous.other, current.other);
  const total = {
    seconds: previous.seconds + seconds,
    tried: flickr.tried + other.tried,
    succeeded: flickr.succeeded + other.succeeded,
  };
  return {
    ...total,
    imagesPerSecond: total.succeeded / Math.max(total.seconds, 1e-9),
    bytes: flickr.bytes + other.bytes,
    flickr,
    other,
    runs: previous.runs + 1,
    thisRun,
  };
}
