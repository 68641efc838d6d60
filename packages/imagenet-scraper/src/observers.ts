import { appendFile, writeFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic';
import type { ScrapeProgress } from './scrape';
import type { ScrapeObserver, Settled } from './stages';
import { type CumulativeStats, cumulativeStats, ScrapeStats } from './stats';

/** Tells each observer, in turn, of a settled URL. */
export async function notify(observers: ScrapeObserver[], event: Settled): Promise<void> {
  for (const observer of observers) await observer.settled?.(event);
}

export async function closeAll(observers: ScrapeObserver[]): Promise<void> {
  for (const observer of observers) await observer.close?.();
}

/**
 * Counts every settled URL; `stats.json` (the earlier runs' totals plus this run's) is rewritten
 * every `everyMs` and at the end.
 */
export function statsObserver(
  stats: ScrapeStats,
  file: string,
  everyMs: number,
  previous?: CumulativeStats,
): ScrapeObserver {
  const write = () =>
    writeFileAtomic(file, JSON.stringify(cumulativeStats(previous, stats.toJSON()), null, 2)).catch(
      () => undefined,
    );
  const timer = setInterval(() => void write(), everyMs);
  return {
    settled: ({ entry, timeMs }) =>
      stats.record(entry.url, { status: entry.status, kind: entry.kind, bytes: entry.bytes, timeMs }),
    revoked: ({ entry }) => stats.revoke(entry.url),
    close: async () => {
      clearInterval(timer);
      await write();
    },
  };
}

const CSV_HEADER = 'wnid,url,host_group,status,kind,http_status,bytes,ms\n';
const csv = (v: string | number | undefined) =>
  v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);

/**
 * The original project's debug CSV, one row per settled URL (an image taken back by an earlier class gets a
 * second, `duplicate` row); the header once, a resumed run appends under it.
 */
export async function debugCsvObserver(file: string): Promise<ScrapeObserver> {
  await writeFile(file, CSV_HEADER, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const row = async ({ wnid, entry, timeMs }: Settled) => {
    const { url, status, kind, httpStatus, bytes } = entry;
    const fields = [wnid, url, ScrapeStats.group(url), status, kind, httpStatus, bytes, Math.round(timeMs)];
    await appendFile(file, `${fields.map(csv).join(',')}\n`);
  };
  return { settled: row, revoked: row };
}

/** `onProgress` after every settled URL, with the images saved by this run. */
export function progressObserver(
  onProgress: (progress: ScrapeProgress) => void,
  stats: ScrapeStats,
  totals: { perClass: number; classes: number },
): ScrapeObserver {
  const totalQuota = totals.perClass * totals.classes;
  let totalSaved = 0;
  const report = ({ wnid, folder, saved }: Settled) =>
    onProgress({
      wnid,
      folder,
      saved,
      perClass: totals.perClass,
      totalSaved,
      totalQuota,
      stats: stats.toJSON(),
    });
  return {
    settled: (event) => {
      if (event.entry.status === 'ok') totalSaved++;
      report(event);
    },
    revoked: (event) => {
      totalSaved--;
      report(event);
    },
  };
}
