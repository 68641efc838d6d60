import { mkdir } from 'node:fs/promises';
import { createCheck, Dedup } from './check';
import type { ClassInfo } from './classes';
import { createDownloader } from './download';
import { writeFailed } from './errors';
import { lockOutput } from './lock';
import { closeAll, debugCsvObserver, progressObserver, statsObserver } from './observers';
import { type OutputFormat, resolveOptions, type Settings } from './options';
import { openOutput, type RunEnd } from './output';
import { type StateLayout, stateLayout } from './paths';
import { runPipeline } from './pipeline';
import type { ScrapeObserver } from './stages';
import { readStats, ScrapeStats } from './stats';
import type { ResizeOptions } from './validate';

export interface ScrapeOptions {
  /**
   * Output root: `<root>/<class name>/<wnid>_<sha256 prefix>.<ext>` (or shards, see `outputFormat`);
   * bookkeeping in `<root>/.scrape/`.
   */
  out: string;
  classes: ClassInfo[];
  /** Image URLs per wnid, in the order to try them. */
  urls: Map<string, string[]>;
  /** Images each class ends with, exactly. */
  perClass: number;
  /** Only URLs on Flickr's hosts (the original project's scrape_only_flickr). */
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
  /**
   * Known placeholder images: a sha256 (64 hex digits) rejects that exact file, a dHash (16 hex
   * digits, see `perceptualHash`) anything within `placeholderDistance` bits of it. Default: the
   * shipped `FLICKR_PLACEHOLDER_DHASH`; a list given replaces it (include it to keep it).
   */
  placeholderHashes?: string[];
  /** Bits (of 64) a dHash may differ and still match a placeholder. Default 5. */
  placeholderDistance?: number;
  /** Resize and re-encode (JPEG) before writing. */
  resize?: ResizeOptions;
  /**
   * `folder` (default): `<out>/<class name>/<file>`; `webdataset`: tar shards of `shardSize`
   * samples, `<out>/<shardPrefix>-000000.tar` …, indexed by `<out>/shards.json`.
   */
  outputFormat?: OutputFormat;
  /** Samples per WebDataset shard (default 1000); the shards of an output keep theirs. */
  shardSize?: number;
  /** Shard names' prefix (default `shard`). */
  shardPrefix?: string;
  /** Write the original project's debug CSV (one row per settled URL) to `.scrape/debug.csv`. */
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
 * Downloads images until every class has exactly `perClass`. Every class runs at once, sharing
 * `concurrency`; each commits its images in list order, and an image in several classes goes to
 * the first in `classes`, so the saved set depends only on the URL lists and the servers' answers
 * — and a killed run, resumed from its manifests, ends with exactly the files an uninterrupted run
 * writes. The stages: reconcile → download → check → commit. The output folder is locked for the
 * run: a second run on it is refused (`OutputLockedError`).
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
  const { work, seen, sink, finish } = await openOutput(settings, layout);
  const observers = await observe(settings, layout, stats);
  const downloader = createDownloader(settings);
  const report: ScrapeReport = { classes: {}, stats: stats.toJSON() };
  let end: RunEnd = 'failed';
  try {
    report.classes = await runPipeline(
      {
        download: downloader.download,
        check: createCheck(settings),
        dedup: new Dedup(seen),
        sink,
        observers,
        perClass: settings.perClass,
        concurrency: settings.concurrency,
        signal: settings.signal,
      },
      work,
    );
    end = settings.signal?.aborted ? 'stopped' : 'done';
    await finish(end); // the last shard, before the lock is released
  } finally {
    if (end === 'failed') await finish(end); // waits for shard writes in flight; never throws
    await downloader.close();
    await closeAll(observers);
    report.stats = stats.toJSON();
  }
  return report;
}
