import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import type { ClassInfo } from './classes';
import { ScrapeConfigError } from './classes';
import { type ErrorKind, fetchImage } from './fetch';
import { appendManifest, type ManifestEntry, readManifest } from './manifest';
import { IMAGE_FILE, imageFileName, safeFolderName } from './paths';
import { ScrapeStats } from './stats';
import { type ResizeOptions, resizeImage, validateImage } from './validate';

export const USER_AGENT =
  'resnet-ts-imagenet-scraper/0.1 (+https://github.com/resnet-ts/resnet-ts; dataset research)';

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

/** A counting semaphore: at most `size` holders at once. */
class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

type Download =
  | {
      ok: true;
      url: string;
      temp: string;
      ext: string;
      sha256: string;
      bytes: number;
      width: number;
      height: number;
      timeMs: number;
    }
  | {
      ok: false;
      url: string;
      kind: ErrorKind | 'cancelled';
      status?: number;
      message: string;
      bytes?: number;
      sha256?: string;
      timeMs: number;
      /** A local failure (disk, permissions) that stops the run. */
      fatal?: Error;
    };

const CSV_HEADER = 'wnid,url,host_group,status,kind,http_status,bytes,ms\n';
const csv = (v: string | number | undefined) =>
  v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);

/**
 * Downloads images until every class has exactly `perClass`. URLs are fetched concurrently but
 * committed in list order, classes one after another, so the saved set depends only on the URL
 * lists and the servers' answers — and a killed run, resumed from its manifests, ends with exactly
 * the files an uninterrupted run writes.
 */
export async function scrape(options: ScrapeOptions): Promise<ScrapeReport> {
  if (!Number.isInteger(options.perClass) || options.perClass < 1) {
    throw new ScrapeConfigError(`perClass: expected a positive integer, got ${options.perClass}`);
  }
  if (options.resize?.shorter && options.resize.max) {
    throw new ScrapeConfigError('resize: give the shorter side or the longer side, not both');
  }
  const concurrency = options.concurrency ?? 64;
  const perHost = options.perHost ?? 8;
  for (const [name, value] of [
    ['concurrency', concurrency],
    ['perHost', perHost],
  ] as const) {
    // Zero would leave every download waiting for a slot that never frees.
    if (!Number.isInteger(value) || value < 1)
      throw new ScrapeConfigError(`${name}: expected a positive integer, got ${value}`);
  }
  const stateDir = path.join(options.out, '.scrape');
  const manifests = path.join(stateDir, 'manifests');
  const tempDir = path.join(stateDir, 'tmp');
  await rm(tempDir, { recursive: true, force: true }); // leftovers of a killed run
  await mkdir(manifests, { recursive: true });
  await mkdir(tempDir, { recursive: true });

  const folders = await assignFolders(path.join(stateDir, 'folders.json'), options.classes, options.out);
  const folderOf = (c: ClassInfo) => folders.get(c.wnid) as string;

  const stats = new ScrapeStats();
  const agent = new Agent({
    connections: perHost,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    headersTimeout: options.headersTimeoutMs ?? 15_000,
    bodyTimeout: options.bodyTimeoutMs ?? 15_000,
  });
  const hosts = new Map<string, Semaphore>();
  const hostSemaphore = (url: string) => {
    let host = 'invalid';
    try {
      host = new URL(url).host;
    } catch {
      // fetchImage reports the bad URL
    }
    let semaphore = hosts.get(host);
    if (!semaphore) {
      semaphore = new Semaphore(perHost);
      hosts.set(host, semaphore);
    }
    return semaphore;
  };
  const placeholderHashes = new Set(options.placeholderHashes ?? []);
  const decodes = new Semaphore(Math.max(2, os.availableParallelism() * 2));
  const writeStats = async () => {
    const file = path.join(stateDir, 'stats.json');
    await writeFile(`${file}.tmp`, JSON.stringify(stats, null, 2));
    await rename(`${file}.tmp`, file);
  };
  const statsTimer = setInterval(
    () => void writeStats().catch(() => undefined),
    options.statsEveryMs ?? 2000,
  );
  if (options.debugCsv) {
    // The header once: a resumed run appends rows under it.
    await writeFile(path.join(stateDir, 'debug.csv'), CSV_HEADER, { flag: 'wx' }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
  }

  // Reconcile every class before downloading: manifest lines whose file vanished are unsettled,
  // files without a line are orphans of a kill (deleted; their URLs are fetched again).
  const reconciled = new Map<
    string,
    { settled: Map<string, ManifestEntry>; owned: Set<string>; unneeded: Set<string> }
  >();
  for (const c of options.classes) {
    const classDir = path.join(options.out, folderOf(c));
    await mkdir(classDir, { recursive: true });
    const entries = await readManifest(path.join(manifests, `${c.wnid}.jsonl`));
    const present = new Set(await readdir(classDir));
    const settled = new Map<string, ManifestEntry>();
    const unneeded = new Set<string>();
    for (const e of entries) {
      if (e.status === 'unneeded') {
        unneeded.add(e.url);
        continue;
      }
      if (e.status === 'ok' && !(e.file && present.has(e.file))) continue;
      if (settled.get(e.url)?.status === 'ok') continue; // a repeated URL keeps its image
      settled.set(e.url, e);
    }
    const owned = new Set(
      [...settled.values()].filter((e) => e.status === 'ok').map((e) => e.file as string),
    );
    for (const file of present) {
      if (IMAGE_FILE.test(file) && file.startsWith(`${c.wnid}_`) && !owned.has(file))
        await rm(path.join(classDir, file), { force: true });
    }
    reconciled.set(c.wnid, { settled, owned, unneeded });
  }
  // Every image on disk, across classes (exact duplicates are skipped everywhere).
  const seen = new Set<string>();
  for (const { settled } of reconciled.values()) {
    for (const e of settled.values()) if (e.status === 'ok' && e.sha256) seen.add(e.sha256);
  }

  const report: ScrapeReport = { classes: {}, stats: stats.toJSON() };
  const totalQuota = options.perClass * options.classes.length;
  let totalSaved = 0;
  try {
    for (const info of options.classes) {
      if (options.signal?.aborted) break;
      const folder = folderOf(info);
      const classDir = path.join(options.out, folder);
      const manifestFile = path.join(manifests, `${info.wnid}.jsonl`);
      const { settled, owned, unneeded } = reconciled.get(info.wnid) as NonNullable<
        ReturnType<typeof reconciled.get>
      >;
      let saved = owned.size;
      const all = (options.urls.get(info.wnid) ?? []).filter(
        (u) => !options.flickrOnly || ScrapeStats.group(u) === 'flickr',
      );
      const pending = all.filter((u) => !settled.has(u));
      const classAbort = new AbortController();
      const signal = options.signal
        ? AbortSignal.any([options.signal, classAbort.signal])
        : classAbort.signal;

      const download = async (url: string, index: number): Promise<Download> => {
        const release = await hostSemaphore(url).acquire();
        const start = performance.now();
        try {
          if (signal.aborted) return { ok: false, url, kind: 'cancelled', message: 'cancelled', timeMs: 0 };
          const fetched = await fetchImage(url, {
            dispatcher: agent,
            userAgent: options.userAgent ?? USER_AGENT,
            timeoutMs: options.timeoutMs ?? 30_000,
            maxBytes: options.maxBytes ?? 20 << 20,
            maxRedirects: options.maxRedirects ?? 5,
            retries: options.retries ?? 2,
            backoffMs: options.backoffMs ?? 500,
            maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
            respectNoAi: options.respectNoAi ?? true,
            signal,
          });
          if (!fetched.ok)
            return {
              ok: false,
              url,
              kind: fetched.kind,
              status: fetched.status,
              message: fetched.message,
              timeMs: performance.now() - start,
            };
          // Full decodes are CPU- and memory-heavy: at most a few at once, however many downloads.
          const releaseDecode = await decodes.acquire();
          let valid: Awaited<ReturnType<typeof validateImage>>;
          let body: Buffer;
          try {
            valid = await validateImage(fetched.bytes, {
              minBytes: options.minBytes ?? 1000,
              minWidth: options.minWidth ?? 32,
              minHeight: options.minHeight ?? 32,
              maxPixels: 100_000_000,
              placeholderHashes,
            });
            body = fetched.bytes;
            if (valid.ok && options.resize) {
              // A decoder failure is the image's fault (corrupt), not a local write failure.
              const { sha256 } = valid;
              try {
                body = await resizeImage(fetched.bytes, options.resize);
              } catch (error) {
                const message = `resize: ${(error as Error).message.split('\n')[0]}`;
                valid = { ok: false, kind: 'corrupt', message, sha256 };
              }
            }
          } finally {
            releaseDecode();
          }
          if (!valid.ok) {
            return {
              ok: false,
              url,
              kind: valid.kind,
              message: valid.message,
              bytes: fetched.bytes.length,
              sha256: valid.sha256,
              timeMs: performance.now() - start,
            };
          }
          const temp = path.join(tempDir, `${info.wnid}-${index}-${process.pid}`);
          await writeFile(temp, body);
          return {
            ok: true,
            url,
            temp,
            ext: options.resize ? 'jpg' : valid.format,
            sha256: valid.sha256,
            bytes: fetched.bytes.length,
            width: valid.width,
            height: valid.height,
            timeMs: performance.now() - start,
          };
        } finally {
          release();
        }
      };

      // A sliding window of downloads over the pending URLs, committed strictly in order.
      const inFlight = new Map<number, Promise<Download>>();
      let next = 0;
      const launch = () => {
        while (
          saved < options.perClass &&
          next < pending.length &&
          inFlight.size < concurrency &&
          !signal.aborted
        ) {
          const index = next++;
          // A local failure (disk full, permissions) is not the URL's fault: it stops the run.
          inFlight.set(
            index,
            download(pending[index] as string, index).catch(
              (error: Error) =>
                ({
                  ok: false,
                  url: pending[index] as string,
                  kind: 'cancelled',
                  message: error.message,
                  timeMs: 0,
                  fatal: error,
                }) as Download,
            ),
          );
        }
      };
      launch();
      let committed = 0;
      try {
        while (committed < next && saved < options.perClass) {
          const index = committed++;
          const result = await (inFlight.get(index) as Promise<Download>);
          inFlight.delete(index);
          if (!result.ok && result.fatal)
            throw new Error(`${options.out}: cannot write downloads (${result.fatal.message})`);
          if (!result.ok && result.kind === 'cancelled') break; // the whole run was stopped
          let entry: ManifestEntry;
          if (result.ok && seen.has(result.sha256)) {
            await rm(result.temp, { force: true });
            entry = {
              url: result.url,
              status: 'duplicate',
              kind: 'duplicate',
              sha256: result.sha256,
              bytes: result.bytes,
            };
          } else if (result.ok) {
            const file = imageFileName(info.wnid, result.sha256, result.ext);
            await rename(result.temp, path.join(classDir, file)); // the file first, then its line
            seen.add(result.sha256);
            saved++;
            totalSaved++;
            entry = {
              url: result.url,
              status: 'ok',
              sha256: result.sha256,
              bytes: result.bytes,
              width: result.width,
              height: result.height,
              file,
            };
          } else {
            entry = {
              url: result.url,
              status: 'failed',
              kind: result.kind as ErrorKind,
              httpStatus: result.status,
              message: result.message,
              bytes: result.bytes,
              sha256: result.sha256,
            };
          }
          await appendManifest(manifestFile, [entry]);
          stats.record(result.url, {
            status: entry.status as 'ok' | 'failed' | 'duplicate',
            kind: entry.kind,
            bytes: entry.bytes,
            timeMs: result.timeMs,
          });
          if (options.debugCsv) {
            const row = [
              info.wnid,
              result.url,
              ScrapeStats.group(result.url),
              entry.status,
              entry.kind,
              entry.httpStatus,
              entry.bytes,
              Math.round(result.timeMs),
            ];
            await appendFile(path.join(stateDir, 'debug.csv'), `${row.map(csv).join(',')}\n`);
          }
          options.onProgress?.({
            wnid: info.wnid,
            folder,
            saved,
            perClass: options.perClass,
            totalSaved,
            totalQuota,
            stats: stats.toJSON(),
          });
          launch();
        }
      } finally {
        // Quota reached, stopped or failed: cancel what is still running and discard its temp files.
        classAbort.abort();
        const leftovers = await Promise.all(inFlight.values());
        await Promise.all(leftovers.map((r) => (r.ok ? rm(r.temp, { force: true }) : undefined)));
      }
      if (saved >= options.perClass) {
        const untried = pending.slice(committed).filter((url) => !unneeded.has(url));
        await appendManifest(
          manifestFile,
          untried.map((url): ManifestEntry => ({ url, status: 'unneeded' })),
        );
      }
      report.classes[info.wnid] = {
        name: info.name,
        folder,
        saved,
        urls: all.length,
        short: saved < options.perClass && !options.signal?.aborted,
      };
    }
  } finally {
    clearInterval(statsTimer);
    await agent.close().catch(() => undefined);
    report.stats = stats.toJSON();
    await writeStats().catch(() => undefined);
  }
  return report;
}

/**
 * Each class's folder, kept in `file` so that a later run with more classes never renames a folder
 * it made. A name that two classes would share, also when they differ only in case (a
 * case-insensitive file system holds them in one folder), gets the wnid: ImageNet has two "crane"s,
 * and "Cardigan" (the dog) and "cardigan".
 */
async function assignFolders(file: string, classes: ClassInfo[], out: string): Promise<Map<string, string>> {
  const saved = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as Record<string, string>,
    () => ({}) as Record<string, string>,
  );
  const folders = new Map(Object.entries(saved));
  const key = (folder: string) => folder.normalize('NFC').toLowerCase();
  const takenBy = new Map([...folders].map(([wnid, folder]) => [key(folder), wnid]));
  let fresh = classes.filter((c) => !folders.has(c.wnid));
  // A scrape made before folders.json named folders by the selected classes, case-sensitively:
  // a class whose folder by that rule is on disk keeps it.
  const onDisk = new Set(await readdir(out).catch(() => [] as string[]));
  const legacyCount = new Map<string, number>();
  for (const c of classes) {
    const name = safeFolderName(c.name, c.wnid);
    legacyCount.set(name, (legacyCount.get(name) ?? 0) + 1);
  }
  for (const c of fresh) {
    const name = safeFolderName(c.name, c.wnid);
    const legacy = (legacyCount.get(name) ?? 0) > 1 ? `${name} (${c.wnid})` : name;
    // On disk, the names coexist on this file system, whatever their case.
    if (onDisk.has(legacy) && ![...folders.values()].includes(legacy)) {
      folders.set(c.wnid, legacy);
      takenBy.set(key(legacy), c.wnid);
    }
  }
  fresh = fresh.filter((c) => !folders.has(c.wnid));
  const wanted = new Map<string, number>();
  for (const c of fresh) {
    const name = key(safeFolderName(c.name, c.wnid));
    wanted.set(name, (wanted.get(name) ?? 0) + 1);
  }
  for (const c of fresh) {
    const name = safeFolderName(c.name, c.wnid);
    const shared = (wanted.get(key(name)) ?? 0) > 1 || takenBy.has(key(name));
    const folder = shared ? `${name} (${c.wnid})` : name;
    folders.set(c.wnid, folder);
    takenBy.set(key(folder), c.wnid);
  }
  if (folders.size > Object.keys(saved).length) {
    await writeFile(`${file}.tmp`, JSON.stringify(Object.fromEntries(folders), null, 1));
    await rename(`${file}.tmp`, file);
  }
  return folders;
}
