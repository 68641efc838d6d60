import { mkdir } from 'node:fs/promises';
import { createCheck, Dedup } from './check';
import type { ClassInfo } from './classes';
import { FolderSink } from './commit';
import { createDownloader } from './download';
import { writeFailed } from './errors';
import { lockOutput } from './lock';
import { closeAll, debugCsvObserver, progressObserver, statsObserver } from './observers';
import { resolveOptions, type Settings } from './options';
import { type StateLayout, stateLayout } from './paths';
import { runPipeline } from './pipeline';
import { reconcile } from './reconcile';
import type { ScrapeObserver } from './stages';
import { readStats, ScrapeStats } from './stats';
import type { ResizeOptions } from './validate';

export interface ScrapeOptions {
  /** Output root: `<root>/<class name>/<wnid>_<sha256 prefix>.<ext>`; bookkeeping in `<root>/.scrape/`. */
  out: string;
  classes: ClassInfo[];
  /** Image URLs per wnid, in the order to try them. */
  urls: Map<string, string[]>;
  /** Images each class ends with, exactly. */
  perClass: number;
  /** Only URLs on Flickr's hosts (the seed's scrape_only_flickr). */
  flickrOnly?: boolean;
  /** Requests in flight at once (default 64) and per host (default 8). */
  concurrency?: number;
  perHost?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Whole request per attempt (default 30 s). */
  timeoutMs?: number;
  maxBytes?: number;
  minBytes?: number;
  minWidth?: number;
  minHeight?: number;
  /** Images with more pixels (from the header, before decoding) fail as `decompression-bomb`. Default 50 MP. */
  maxPixels?: number;
  /** Decoded pixels held at once across concurrent checks, bytes. Default 1 GiB (at most a quarter of RAM). */
  decodeMemoryBytes?: number;
  maxRedirects?: number;
  retries?: number;
  backoffMs?: number;
  maxRetryAfterMs?: number;
  respectNoAi?: boolean;
  userAgent?: string;
  placeholderHashes?: string[];
  /** Resize and re-encode (JPEG) before writing. */
  resize?: ResizeOptions;
  /** Write the seed's debug CSV (one row per settled URL) to `.scrape/debug.csv`. */
  debugCsv?: boolean;
  /** How often `stats.json` is rewritten, ms. */
  statsEveryMs?: number;
  onProgress?: (progress: ScrapeProgress) => void;
  /** Stops the run (in-flight requests cancelled, nothing half-written). */
  signal?: AbortSignal;
}

export interface ScrapeProgress {
  wnid: string;
  folder: string;
  saved: number;
  perClass: number;
  totalSaved: number;
  totalQuota: number;
  stats: ReturnType<ScrapeStats['toJSON']>;
}

export interface ClassReport {
  name: string;
  folder: string;
  saved: number;
  urls: number;
  /** Ran out of URLs before the quota. */
  short: boolean;
}

export interface ScrapeReport {
  classes: Record<string, ClassReport>;
  stats: ReturnType<ScrapeStats['toJSON']>;
}

/** Statistics first, then the debug CSV, then progress: the order each hears of a URL. */
async function observe(
  settings: Settings,
  layout: StateLayout,
  stats: ScrapeStats,
): Promise<ScrapeObserver[]> {
  const csv = settings.debugCsv ? await debugCsvObserver(layout.debugCsv) : undefined;
  const totals = { perClass: settings.perClass, classes: settings.classes.length };
  const progress = settings.onProgress && progressObserver(settings.onProgress, stats, totals);
  // stats.json continues the earlier runs' totals: a resumed scrape reports the whole job.
  const previous = await readStats(layout.stats);
  const observers = [statsObserver(stats, layout.stats, settings.statsEveryMs, previous), csv, progress];
  return observers.filter((o): o is ScrapeObserver => o !== undefined);
}

/**
 * Downloads images until every class has exactly `perClass`. URLs are fetched concurrently but
 * committed in list order, classes one after another, so the saved set depends only on the URL
 * lists and the servers' answers — and a killed run, resumed from its manifests, ends with exactly
 * the files an uninterrupted run writes. The stages: reconcile → download → check → commit. The
 * output folder is locked for the run: a second run on it is refused (`OutputLockedError`).
 */
export async function scrape(options: ScrapeOptions): Promise<ScrapeReport> {
  const settings = resolveOptions(options);
  const layout = stateLayout(settings.out);
  await mkdir(layout.root, { recursive: true }).catch((error: unknown) => {
    throw writeFailed(settings.out, error);
  });
  // Before anything else touches the folder: a second run would delete this one's temp files.
  const lock = await lockOutput(settings.out, layout.lock);
  try {
    return await scrapeLocked(settings, layout);
  } finally {
    await lock.release();
  }
}

async function scrapeLocked(settings: Settings, layout: StateLayout): Promise<ScrapeReport> {
  const stats = new ScrapeStats();
  const { work, seen } = await reconcile({ ...settings, layout });
  const observers = await observe(settings, layout, stats);
  const downloader = createDownloader(settings);
  const report: ScrapeReport = { classes: {}, stats: stats.toJSON() };
  try {
    report.classes = await runPipeline(
      {
        download: downloader.download,
        check: createCheck(settings),
        dedup: new Dedup(seen),
        sink: new FolderSink(settings.out, layout),
        observers,
        perClass: settings.perClass,
        concurrency: settings.concurrency,
        signal: settings.signal,
      },
      work,
    );
  } finally {
    await downloader.close();
    await closeAll(observers);
    report.stats = stats.toJSON();
  }
  return report;
}
