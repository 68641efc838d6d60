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

/** The seed's statistics, split by Flickr vs other hosts, plus bytes and throughput. */
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
