import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Check, Deduplicator } from './check';
import type { Downloader } from './download';
import { Semaphore } from './limits';
import { notify } from './observers';
import type { ClassReport } from './scrape';
import type {
  Checked,
  ClassWork,
  CommitSink,
  Holder,
  ScrapeObserver,
  TriedEntry,
  WorkSource,
} from './stages';
import { OrderedWindow } from './window';

/** The stages and limits one run wires together. */
export interface Pipeline {
  download: Downloader['download'];
  check: Check;
  dedup: Deduplicator;
  sink: CommitSink;
  observers: ScrapeObserver[];
  perClass: number;
  /** Downloads in flight at once in a class (the downloader holds the run-wide limit). */
  concurrency: number;
  /**
   * Checked images held behind an unsettled earlier URL, bytes across the run: past this, a class
   * starts no download but the one its commits wait for. Default 256 MiB.
   */
  heldBytes?: number;
  /** Stops the run: requests in flight are cancelled, nothing is committed after them. */
  signal?: AbortSignal;
}

export const HELD_BYTES = 256 << 20;

/**
 * A download lags once it has run this long and 4 times the class's mean: it likely waits for a
 * timeout, and stops counting against the window (which stays within `concurrency`), so a class
 * whose window is full of stalled requests still starts the URLs its quota needs.
 */
export const LAG_MS = 1000;
const LAG_CHECK_MS = 250;

/**
 * Stages 2 and 3 (per URL, concurrently): the body fetched, then checked. `onDownloaded` hears of a
 * download's end before its check (both for the window's arithmetic): with a body (`true`) or not.
 */
async function checkUrl(
  pipeline: Pipeline,
  url: string,
  index: number,
  signal: AbortSignal,
  onDownloaded: (body: boolean) => void,
): Promise<Checked> {
  const fetched = await pipeline.download(url, signal);
  if (fetched.status === 'cancelled') return { url, index, timeMs: 0, status: 'cancelled' };
  onDownloaded(fetched.status === 'fetched');
  const since = (startedAt: number) => performance.now() - startedAt;
  if (fetched.status === 'failed')
    return { url, index, timeMs: since(fetched.startedAt), status: 'failed', failure: fetched.failure };
  const verdict = await pipeline.check(fetched.bytes);
  return { url, index, timeMs: since(fetched.startedAt), ...verdict };
}

/** Downloads started beyond what the quota needs at the class's success rate so far. */
export const LOOKAHEAD = 2;

/**
 * How many downloads a class keeps going: what its remaining quota needs at the success rate seen
 * so far (optimistic until the first results), plus a small lookahead, so that failures are
 * replaced early but a nearly full class does not start downloads it will throw away (a quota of
 * 3 against a good list starts 5, not `concurrency`).
 */
export function windowSize(concurrency: number, needed: number, tried: number, ok: number): number {
  // Nothing needed: the images held will do (and if one turns out a duplicate, need returns).
  if (needed <= 0) return 0;
  const rate = (ok + 1) / (tried + 1);
  return Math.max(1, Math.min(concurrency, Math.ceil(needed / rate) + LOOKAHEAD));
}

/** What the classes of one run share. */
export interface RunContext {
  /** The class's place in the run's order (0 first): who keeps an image found in several classes. */
  rank: number;
  /** Sink calls and observers, one at a time across the run. */
  commits: Semaphore;
  /** Bytes of checked images held behind unsettled URLs, across the run. */
  held: { bytes: number };
  /** The run stopped (the caller's signal, or a class failed). */
  stop: AbortSignal;
  /** Settles once every class earlier in the order has ended: none can take an image back then. */
  earlier: Promise<void>;
  /** Gives an image back from the class that held it (called with `commits` held). */
  revoke(holder: Holder, sha256: string): Promise<void>;
  /**
   * A full class waiting longer than this for the classes before it gives up its place (a queue
   * worker's slot) and returns `parked`: it is run again later. Unset: it waits.
   */
  parkAfterMs?: number;
}

/** A run of one class alone (tests): nothing before it, nothing to give back to. */
function alone(pipeline: Pipeline): RunContext {
  return {
    rank: 0,
    commits: new Semaphore(1),
    held: { bytes: 0 },
    stop: pipeline.signal ?? new AbortController().signal,
    earlier: Promise.resolve(),
    revoke: async () => undefined,
  };
}

/** Resolves on the next `wake()` after `next()` was called. */
class Wakeup {
  private waiters: (() => void)[] = [];
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/** Handle on a running class, for the run: an image it held, given back. */
interface ClassHandle {
  work: ClassWork;
  giveBack(holder: Holder, sha256: string): Promise<void>;
}

/** What one class's rounds share (see runClass). */
interface ClassState {
  pipeline: Pipeline;
  work: ClassWork;
  context: RunContext;
  heldLimit: number;
  count: { saved: number; downloaded: number; good: number; downloadMs: number };
  recorded: Map<number, Checked>;
  read: number;
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  told: (entry: TriedEntry, timeMs: number) => Promise<void>;
}

/** One window of a class from `state.read` until it is full, out of URLs or stopped; returns where it ended. */
async function round(state: ClassState): Promise<number> {
  const { pipeline, work, context, heldLimit, count, recorded, read, exclusive, told } = state;
  const { perClass, sink } = pipeline;
  const full = new AbortController();
  const signal = AbortSignal.any([context.stop, full.signal]);
  setMaxListeners(0, signal); // one listener per download in flight or queued
  const heldSizes = new Map<number, number>();
  let checking = 0;
  const downloading = new Map<number, number>(); // index → start
  const task = async (index: number): Promise<Checked> => {
    const early = recorded.get(index);
    if (early) return early;
    let body = false;
    downloading.set(index, performance.now());
    const checked = await checkUrl(pipeline, work.pending[index] as string, index, signal, (b) => {
      count.downloadMs += performance.now() - (downloading.get(index) ?? 0);
      downloading.delete(index);
      body = b;
      count.downloaded++;
      if (b) {
        count.good++;
        checking++;
      }
    });
    downloading.delete(index); // cancelled
    if (body) {
      checking--;
      if (checked.status !== 'passed') count.good--;
    }
    if (checked.status === 'cancelled') return checked;
    if (checked.status === 'passed') {
      heldSizes.set(index, checked.image.body.length);
      context.held.bytes += checked.image.body.length;
    } else if (!signal.aborted) {
      await exclusive(async () => {
        if (signal.aborted) return;
        const entry = await sink.commit(work, checked);
        recorded.set(index, checked);
        await told(entry, checked.timeMs);
      });
    }
    return checked;
  };
  const unhold = (index: number) => {
    context.held.bytes -= heldSizes.get(index) ?? 0;
    heldSizes.delete(index);
  };
  const window: OrderedWindow<Checked> = new OrderedWindow(
    work.pending.length,
    () => {
      // Images held behind an unsettled URL (or in their checks) count as good as saved.
      const needed = perClass - count.saved - heldSizes.size - checking;
      const size = windowSize(pipeline.concurrency, needed, count.downloaded, count.good);
      return size === 0 ? 0 : Math.min(pipeline.concurrency, size + lagging());
    },
    task,
    // Past the held budget only the URL the commits wait for starts: the run never stalls.
    () =>
      count.saved < perClass &&
      !signal.aborted &&
      (context.held.bytes < heldLimit || window.running + window.held === 0),
    read,
  );
  const lagging = () => {
    const mean = count.downloaded === 0 ? 0 : count.downloadMs / count.downloaded;
    const since = performance.now() - Math.max(LAG_MS, 4 * mean);
    let n = 0;
    for (const start of downloading.values()) if (start < since) n++;
    return n;
  };
  // Nothing else may happen while every download in flight stalls: look again now and then.
  const relook = setInterval(() => window.fill(), LAG_CHECK_MS);
  window.fill();
  try {
    while (count.saved < perClass) {
      const checked = await window.next();
      if (!checked || checked.status === 'cancelled') break; // none left, or the run was stopped
      if (recorded.has(checked.index)) continue; // a failure, already committed
      if (checked.status === 'failed') break; // the run stopped before it was recorded
      await exclusive(async () => {
        const { outcome, displaced } = await pipeline.dedup.judge(checked, context.rank);
        const entry = await sink.commit(work, outcome);
        if (outcome.status === 'ok') {
          count.saved++;
          await pipeline.dedup.stored(outcome.image.sha256, entry.file);
        }
        // Our copy is in place: now the later class's goes (a kill in between is reconciled).
        if (displaced && outcome.status === 'ok') await context.revoke(displaced, outcome.image.sha256);
        await told(entry, checked.timeMs);
      });
      unhold(checked.index); // after the commit: counted as held or saved, never neither
      window.fill();
    }
  } finally {
    clearInterval(relook);
    full.abort(); // full, stopped or failed: cancel what is still running
    await window.drain();
    for (const index of [...heldSizes.keys()]) unhold(index);
  }
  return window.read;
}

/**
 * One class through stages 2–4: downloads over its pending URLs, each judged and committed in list
 * order (a failure as soon as known) until the class has `perClass` images; then what is still in
 * flight is cancelled. Only running downloads count against the window: results behind a slow URL
 * are held, so the class finishes as soon as the slow one settles. A full class ends once every
 * class before it has (one of them may still take an image back, and the class then goes on);
 * then the URLs never tried are marked unneeded.
 */
export async function runClass(
  pipeline: Pipeline,
  work: ClassWork,
  context: RunContext = alone(pipeline),
  onStart?: (handle: ClassHandle) => void,
): Promise<ClassReport & { parked?: boolean }> {
  const { perClass, sink, observers } = pipeline;
  const { wnid } = work.info;
  const heldLimit = pipeline.heldBytes ?? HELD_BYTES;
  // The success rate counts a body as good from its download on (until its check says otherwise):
  // a 404 settles sooner than an image is checked, and must not widen the window meanwhile.
  const count = { saved: work.saved, downloaded: 0, good: 0, downloadMs: 0 };
  // Failures recorded as soon as known, out of list order: not downloaded again on a rerun.
  const recorded = new Map<number, Checked>();
  const wakeup = new Wakeup();
  let read = 0;

  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await context.commits.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  };
  const told = (entry: TriedEntry, timeMs: number) =>
    notify(observers, { wnid, folder: work.folder, entry, timeMs, saved: count.saved });

  onStart?.({
    work,
    giveBack: async (holder, sha256) => {
      const entry = await sink.revoke(work, holder, sha256);
      count.saved--;
      const event = { wnid, folder: work.folder, entry, timeMs: 0, saved: count.saved };
      for (const observer of observers) await observer.revoked?.(event);
      wakeup.wake();
    },
  });

  const more = () => count.saved < perClass && read < work.pending.length && !context.stop.aborted;
  const report = () => ({
    name: work.info.name,
    folder: work.folder,
    saved: count.saved,
    urls: work.urls.length,
  });
  for (;;) {
    if (more())
      read = await round({ pipeline, work, context, heldLimit, count, recorded, read, exclusive, told });
    if (context.stop.aborted) break;
    if (more()) continue; // an image was taken back while the round ended
    const waits: Promise<'final' | 'woken' | 'park'>[] = [
      context.earlier.then(() => 'final' as const),
      wakeup.next().then(() => 'woken' as const),
    ];
    const park = context.parkAfterMs === undefined ? undefined : new AbortController();
    if (park)
      waits.push(sleep(context.parkAfterMs, 'park' as const, { signal: park.signal }).catch(() => 'woken'));
    const woke = await Promise.race(waits);
    park?.abort();
    if (woke === 'park') return { ...report(), short: false, parked: true };
    if (woke === 'final' && !more()) break;
  }
  if (count.saved >= perClass && !context.stop.aborted) {
    const untried = work.pending
      .slice(read)
      .filter((url, i) => !work.unneeded.has(url) && !recorded.has(read + i));
    await exclusive(() => sink.unneeded(work, untried));
  }
  return { ...report(), short: count.saved < perClass && !context.stop.aborted };
}

/**
 * Every work item, all classes at once (one download budget, see `Downloader`): a class waits on
 * no other, and the saved set stays deterministic — each class commits in its own list order, and
 * an image found in several classes goes to the first in the order. The first class to fail
 * (a local write failure) stops the others; its error is thrown once all have ended.
 */
export async function runPipeline(
  pipeline: Pipeline,
  source: WorkSource,
): Promise<Record<string, ClassReport>> {
  const failed = new AbortController();
  const stop = pipeline.signal ? AbortSignal.any([pipeline.signal, failed.signal]) : failed.signal;
  setMaxListeners(0, stop); // one listener per class
  const handles = new Map<number, ClassHandle>();
  const commits = new Semaphore(1);
  const held = { bytes: 0 };
  const runs: { wnid: string; run: Promise<ClassReport> }[] = [];
  let earlier = Promise.resolve();
  for await (const work of source) {
    if (stop.aborted) break;
    const rank = runs.length;
    const context: RunContext = {
      rank,
      commits,
      held,
      stop,
      earlier,
      revoke: (holder, sha256) => handles.get(holder.rank)?.giveBack(holder, sha256) ?? Promise.resolve(),
    };
    const run = runClass(pipeline, work, context, (handle) => handles.set(rank, handle)).catch(
      (error: unknown) => {
        failed.abort(error);
        throw error;
      },
    );
    const before = earlier;
    earlier = run.then(
      () => before,
      () => before,
    );
    runs.push({ wnid: work.info.wnid, run });
  }
  const settled = await Promise.allSettled(runs.map((r) => r.run));
  const error = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (error) throw failed.signal.reason ?? error.reason;
  const classes: Record<string, ClassReport> = {};
  for (const [i, s] of settled.entries())
    if (s.status === 'fulfilled') classes[(runs[i] as { wnid: string }).wnid] = s.value;
  return classes;
}
