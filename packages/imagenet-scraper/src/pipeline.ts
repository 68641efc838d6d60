import type { Check, Dedup } from './check';
import type { Downloader } from './download';
import { notify } from './observers';
import type { ClassReport } from './scrape';
import type { Checked, ClassWork, CommitSink, ScrapeObserver, WorkSource } from './stages';
import { OrderedWindow } from './window';

/** The stages and limits one run wires together. */
export interface Pipeline {
  download: Downloader['download'];
  check: Check;
  dedup: Dedup;
  sink: CommitSink;
  observers: ScrapeObserver[];
  perClass: number;
  /** Downloads in flight at once, finished-but-uncommitted ones included. */
  concurrency: number;
  /** Stops the run: requests in flight are cancelled, nothing is committed after them. */
  signal?: AbortSignal;
}

/** Stages 2 and 3 (per URL, concurrently): the body fetched, then checked. */
async function checkUrl(
  pipeline: Pipeline,
  url: string,
  index: number,
  signal: AbortSignal,
): Promise<Checked> {
  const fetched = await pipeline.download(url, signal);
  if (fetched.status === 'cancelled') return { url, index, timeMs: 0, status: 'cancelled' };
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
  const rate = (ok + 1) / (tried + 1);
  return Math.max(1, Math.min(concurrency, Math.ceil(needed / rate) + LOOKAHEAD));
}

/**
 * One class through stages 2–4: a sliding window of downloads over its pending URLs, each judged
 * and committed strictly in list order until the class has `perClass` images; then what is still
 * in flight is cancelled and the URLs never tried are marked unneeded.
 */
export async function runClass(pipeline: Pipeline, work: ClassWork): Promise<ClassReport> {
  const { perClass } = pipeline;
  const classAbort = new AbortController();
  const signal = pipeline.signal ? AbortSignal.any([pipeline.signal, classAbort.signal]) : classAbort.signal;
  let saved = work.saved;
  let tried = 0;
  let ok = 0;
  const window = new OrderedWindow(
    work.pending.length,
    () => windowSize(pipeline.concurrency, perClass - saved, tried, ok),
    (index) => checkUrl(pipeline, work.pending[index] as string, index, signal),
    () => saved < perClass && !signal.aborted,
  );
  window.fill();
  try {
    while (saved < perClass) {
      const checked = await window.next();
      if (!checked || checked.status === 'cancelled') break; // none left, or the run was stopped
      const entry = await pipeline.sink.commit(work, pipeline.dedup.judge(checked));
      tried++;
      if (entry.status === 'ok') {
        saved++;
        ok++;
      }
      const { wnid } = work.info;
      await notify(pipeline.observers, { wnid, folder: work.folder, entry, timeMs: checked.timeMs, saved });
      window.fill();
    }
  } finally {
    classAbort.abort(); // full, stopped or failed: cancel what is still running
    await window.drain();
  }
  if (saved >= perClass) {
    const untried = work.pending.slice(window.read).filter((url) => !work.unneeded.has(url));
    await pipeline.sink.unneeded(work, untried);
  }
  const short = saved < perClass && !pipeline.signal?.aborted;
  return { name: work.info.name, folder: work.folder, saved, urls: work.urls.length, short };
}

/** Every work item, one class after another (so the saved set is deterministic). */
export async function runPipeline(
  pipeline: Pipeline,
  source: WorkSource,
): Promise<Record<string, ClassReport>> {
  const classes: Record<string, ClassReport> = {};
  for await (const work of source) {
    if (pipeline.signal?.aborted) break;
    classes[work.info.wnid] = await runClass(pipeline, work);
  }
  return classes;
}
