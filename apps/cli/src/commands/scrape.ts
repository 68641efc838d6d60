import { readFile } from 'node:fs/promises';
import {
  type ClassInfo,
  FLICKR_PLACEHOLDER_DHASH,
  ilsvrc2012Classes,
  loadUrls,
  parseClassInfo,
  parseUrlSource,
  perceptualHash,
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
  outputFormat?: 'folder' | 'webdataset';
  shardSize?: number;
  urlSource: string;
  concurrency?: number;
  perHost?: number;
  timeout?: number;
  connectTimeout?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
  retries?: number;
  placeholder: string[];
  placeholderDistance?: number;
  minSize?: number;
  maxMegapixels?: number;
  decodeMemory?: number;
  resizeShorter?: number;
  resizeMax?: number;
  debugCsv?: boolean;
  noai: boolean;
  seed?: number;
  json?: boolean;
  /** Spread the run over workers through Redis (`resnet scrape worker`). */
  queue?: string;
  queueName?: string;
}

/** The dHash of each `--placeholder` image, after the built-in Flickr card's. */
async function placeholderHashes(files: string[]): Promise<string[]> {
  const hashes = [FLICKR_PLACEHOLDER_DHASH];
  for (const file of files) {
    const bytes = await readFile(file).catch(() => {
      throw new ScrapeConfigError(`--placeholder: cannot read ${file}`);
    });
    hashes.push(
      await perceptualHash(bytes).catch(() => {
        throw new ScrapeConfigError(`--placeholder: ${file} is not an image sharp can decode`);
      }),
    );
  }
  return hashes;
}

export async function runScrape(flags: ScrapeFlags, io: Io): Promise<number> {
  let table: Map<string, ClassInfo> = ilsvrc2012Classes();
  if (flags.classInfo) {
    const text = await readFile(flags.classInfo, 'utf8').catch(() => {
      throw new ScrapeConfigError(`--class-info: cannot read ${flags.classInfo}`);
    });
    table = parseClassInfo(text, flags.classInfo);
  }
  if (flags.shardSize !== undefined && flags.outputFormat !== 'webdataset')
    throw new ScrapeConfigError('--shard-size needs --output-format webdataset');
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
  const placeholders = await placeholderHashes(flags.placeholder ?? []);
  const limits = {
    timeoutMs: flags.timeout,
    connectTimeoutMs: flags.connectTimeout,
    headersTimeoutMs: flags.headersTimeout,
    bodyTimeoutMs: flags.bodyTimeout,
    retries: flags.retries,
  };
  // A URL-list server gets the same timeouts and retries as the image hosts.
  const urls = await loadUrls(
    await parseUrlSource(flags.urlSource),
    classes.map((c) => c.wnid),
    { userAgent: USER_AGENT, ...limits },
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
    const run = flags.queue
      ? (options: Parameters<typeof scrape>[0]) =>
          import('@resnet-ts/imagenet-scraper/queue').then(({ scrapeWithQueue }) =>
            scrapeWithQueue({ ...options, queue: { url: flags.queue as string, name: flags.queueName } }),
          )
      : scrape;
    if (flags.queue && !flags.json)
      io.stderr(
        'resnet: one job per class on the queue; start workers with: resnet scrape worker --queue <the same URL>\n',
      );
    const report = await run({
      out: flags.out,
      outputFormat: flags.outputFormat,
      shardSize: flags.shardSize,
      classes,
      urls,
      perClass: flags.perClass,
      flickrOnly: flags.flickrOnly,
      concurrency: flags.concurrency,
      perHost: flags.perHost,
      ...limits,
      placeholderHashes: placeholders,
      placeholderDistance: flags.placeholderDistance,
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
      const shards = flags.outputFormat === 'webdataset' ? `; shards listed in ${flags.out}/shards.json` : '';
      io.stdout(
        `${report.stats.succeeded} saved of ${report.stats.tried} tried in ${report.stats.seconds.toFixed(1)} s; statistics in ${flags.out}/.scrape/stats.json${shards}\n`,
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
