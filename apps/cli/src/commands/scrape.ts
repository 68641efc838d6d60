import { readFile } from 'node:fs/promises';
import {
  type ClassInfo,
  ilsvrc2012Classes,
  loadUrls,
  parseClassInfo,
  parseUrlSource,
  ScrapeConfigError,
  scrape,
  selectClasses,
  USER_AGENT,
} from '@resnet-ts/imagenet-scraper';
import cliProgress from 'cli-progress';
import type { Io } from '../io';

export interface ScrapeFlags {
  wnids?: string;
  classes?: number;
  minUrls?: number;
  classInfo?: string;
  flickrOnly?: boolean;
  perClass: number;
  out: string;
  urlSource: string;
  concurrency?: number;
  perHost?: number;
  timeout?: number;
  retries?: number;
  minSize?: number;
  maxMegapixels?: number;
  decodeMemory?: number;
  resizeShorter?: number;
  resizeMax?: number;
  debugCsv?: boolean;
  noai: boolean;
  seed?: number;
  json?: boolean;
}

export async function runScrape(flags: ScrapeFlags, io: Io): Promise<number> {
  let table: Map<string, ClassInfo> = ilsvrc2012Classes();
  if (flags.classInfo) {
    const text = await readFile(flags.classInfo, 'utf8').catch(() => {
      throw new ScrapeConfigError(`--class-info: cannot read ${flags.classInfo}`);
    });
    table = parseClassInfo(text, flags.classInfo);
  }
  if (!flags.wnids && !flags.classes)
    throw new ScrapeConfigError('give --wnids <id,…> or --classes <n> (random classes)');
  const classes = selectClasses(table, {
    wnids: flags.wnids
      ?.split(',')
      .map((w) => w.trim())
      .filter(Boolean),
    count: flags.classes,
    minUrls: flags.minUrls,
    perClass: flags.perClass,
    flickrOnly: flags.flickrOnly,
    seed: flags.seed,
  });
  // A URL-list server gets the same timeout and retries as the image hosts.
  const urls = await loadUrls(
    await parseUrlSource(flags.urlSource),
    classes.map((c) => c.wnid),
    { userAgent: USER_AGENT, timeoutMs: flags.timeout, retries: flags.retries },
  );
  const abort = new AbortController();
  const removeHandler = io.onInterrupt(() => {
    io.stderr('\nresnet: stopping; in-flight downloads are cancelled, nothing is left half-written\n');
    abort.abort();
  });
  const bar = io.isTTY
    ? new cliProgress.SingleBar(
        {
          format: 'scrape |{bar}| {value}/{total} images | {rate} img/s | {cls} | ETA {eta_formatted}',
          stream: io.terminal,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(flags.perClass * classes.length, 0, { rate: '-', cls: '' });
  let lastLine = 0;
  try {
    const report = await scrape({
      out: flags.out,
      classes,
      urls,
      perClass: flags.perClass,
      flickrOnly: flags.flickrOnly,
      concurrency: flags.concurrency,
      perHost: flags.perHost,
      timeoutMs: flags.timeout,
      retries: flags.retries,
      minWidth: flags.minSize,
      minHeight: flags.minSize,
      maxPixels: flags.maxMegapixels === undefined ? undefined : flags.maxMegapixels * 1_000_000,
      decodeMemoryBytes: flags.decodeMemory === undefined ? undefined : flags.decodeMemory * 2 ** 20,
      resize:
        flags.resizeShorter || flags.resizeMax
          ? { shorter: flags.resizeShorter, max: flags.resizeMax }
          : undefined,
      debugCsv: flags.debugCsv,
      respectNoAi: flags.noai,
      signal: abort.signal,
      onProgress: (p) => {
        bar?.update(p.totalSaved, { rate: p.stats.imagesPerSecond.toFixed(1), cls: p.folder });
        // Like the original project's scraper: a statistics line every 250 URLs when there is no bar.
        if (!bar && p.stats.tried - lastLine >= 250) {
          lastLine = p.stats.tried;
          io.stderr(
            `${p.stats.tried} URLs tried, ${p.totalSaved}/${p.totalQuota} saved, ${p.stats.imagesPerSecond.toFixed(1)} img/s; flickr ${p.stats.flickr.succeeded}/${p.stats.flickr.tried}, other ${p.stats.other.succeeded}/${p.stats.other.tried}\n`,
          );
        }
      },
    });
    bar?.stop();
    if (flags.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else {
      for (const [wnid, c] of Object.entries(report.classes)) {
        io.stdout(
          `${wnid} ${c.folder}: ${c.saved}/${flags.perClass}${c.short ? ` (only ${c.urls} URLs; ran out)` : ''}\n`,
        );
      }
      io.stdout(
        `${report.stats.succeeded} saved of ${report.stats.tried} tried in ${report.stats.seconds.toFixed(1)} s; statistics in ${flags.out}/.scrape/stats.json\n`,
      );
    }
    if (abort.signal.aborted) {
      io.stderr('resnet: stopped; run the same command again to resume\n');
      return 130;
    }
    return Object.values(report.classes).some((c) => c.short) ? 3 : 0;
  } finally {
    bar?.stop();
    removeHandler();
  }
}
