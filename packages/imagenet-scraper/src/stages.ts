/**
 * The contracts between the pipeline's stages, one way:
 * reconcile (work items) → download (`Fetched`) → check (`Checked`, then `Outcome` in list order)
 * → commit (`CommitSink`), with observers told of each settled URL. A stage sees only these.
 */
import type { ClassInfo } from './classes';
import type { Failure, TriedStatus } from './errors';
import type { ManifestEntry } from './manifest';
import type { ImageFormat } from './validate';

/** Stage 1's output, one per class: what is left to do, given what the output already holds. */
export interface ClassWork {
  info: ClassInfo;
  /** The class's folder name under the output root. */
  folder: string;
  /** The class's URLs in order (Flickr's only, with `flickrOnly`). */
  urls: string[];
  /** Those not settled by an earlier run, in order: stage 2's input. */
  pending: string[];
  /** Images already in the folder, each with its manifest line. */
  saved: number;
  /** URLs already marked unneeded (not marked again). */
  unneeded: Set<string>;
}

/** Where work comes from: the local reconcile stage, or (later) a job queue. */
export type WorkSource = Iterable<ClassWork> | AsyncIterable<ClassWork>;

/** Stage 2's record of one URL: its body, or why there is none. Never thrown. */
export type Fetched =
  | { status: 'fetched'; bytes: Buffer; startedAt: number }
  | { status: 'failed'; failure: Failure; startedAt: number }
  | { status: 'cancelled' };

/** An image that passed every check, in memory until the commit stage stores it. */
export interface CheckedImage {
  /** What is stored: the download, or its re-encoded resize. */
  body: Buffer;
  ext: ImageFormat;
  /** Of the download (what duplicates are found by). */
  sha256: string;
  /** Downloaded bytes. */
  bytes: number;
  width: number;
  height: number;
}

/** Stage 3's verdict on a body, before anything is written. */
export type Verdict =
  | { status: 'passed'; image: CheckedImage }
  | { status: 'failed'; failure: Failure; bytes: number; sha256?: string };

interface UrlResult {
  url: string;
  /** Position in the class's pending list: commits follow it. */
  index: number;
  /** From the request's start (a host slot free) to the end of its checks. */
  timeMs: number;
}

type Failed = UrlResult & { status: 'failed'; failure: Failure; bytes?: number; sha256?: string };

/** One URL through stages 2 and 3 (concurrently, in any order). */
export type Checked =
  | Failed
  | (UrlResult & { status: 'passed'; image: CheckedImage })
  | (UrlResult & { status: 'cancelled' });

/** A URL's status, judged in list order (duplicates depend on the order): what stage 4 stores. */
export type Outcome =
  | Failed
  | (UrlResult & { status: 'ok'; image: CheckedImage })
  | (UrlResult & { status: 'duplicate'; sha256: string; bytes: number });

/** The class holding an image: its place in the run's order (0 first), the URL and the stored file. */
export interface Holder {
  rank: number;
  url: string;
  /** As the sink named it (undefined until committed). */
  file?: string;
}

/** A tried URL's manifest line. */
export type TriedEntry = ManifestEntry & { status: TriedStatus };

/**
 * Stage 4: stores outcomes one call at a time across the whole run (classes commit concurrently).
 * Within a class, images and duplicates come strictly in list order; a failure comes as soon as it
 * is known (it keeps no file, so its place in the order changes nothing), so that a killed run
 * keeps it. An image (if any) is in place before its line is recorded. A local failure throws and
 * stops the run.
 */
export interface CommitSink {
  commit(work: ClassWork, outcome: Outcome): Promise<TriedEntry>;
  /** Marks URLs left untried once the class is full. */
  unneeded(work: ClassWork, urls: string[]): Promise<void>;
  /**
   * A class earlier in the run's order found the same image: the later class's copy is removed,
   * then its URL recorded as a duplicate (the earlier class's copy is already in place).
   */
  revoke(work: ClassWork, holder: Holder, sha256: string): Promise<TriedEntry>;
}

/** A settled URL, as observers see it: after its commit, in commit order. */
export interface Settled {
  wnid: string;
  folder: string;
  entry: TriedEntry;
  timeMs: number;
  /** The class's images after this commit. */
  saved: number;
}

/** Watches the pipeline without steering it (statistics, the debug CSV, progress). */
export interface ScrapeObserver {
  /** Every tried URL: ok, failed or duplicate (not cancelled, not unneeded). Awaited in turn. */
  settled?(event: Settled): void | Promise<void>;
  /** An image given back to a class earlier in the order: `entry` is its URL's duplicate line. */
  revoked?(event: Settled): void | Promise<void>;
  /** The run ended, however it ended. */
  close?(): Promise<void>;
}
