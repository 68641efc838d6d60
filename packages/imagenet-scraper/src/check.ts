import os from 'node:os';
import { fail } from './errors';
import { Semaphore, WeightedSemaphore } from './limits';
import type { Settings } from './options';
import { isDHash, isSha256 } from './phash';
import type { Checked, Holder, Outcome, Verdict } from './stages';
import { decodeImage, type Inspection, inspectImage, resizeImage, type ValidateOptions } from './validate';

/** Stage 3, per body: validation (a full decode) and the optional resize, before anything is written. */
export type Check = (bytes: Buffer) => Promise<Verdict>;

/**
 * Full decodes are CPU- and memory-heavy: at most 2 per core at once, however many downloads, and
 * their decoded pixels within `decodeMemoryBytes` (a few huge images wait for each other instead
 * of taking gigabytes together). The header is read first, so the size is known before decoding.
 */
export function createCheck(settings: Settings): Check {
  const decodes = new Semaphore(Math.max(2, os.availableParallelism() * 2));
  const memory = new WeightedSemaphore(settings.decodeMemoryBytes);
  const limits: ValidateOptions = {
    minBytes: settings.minBytes,
    minWidth: settings.minWidth,
    minHeight: settings.minHeight,
    maxPixels: settings.maxPixels,
    // One list, two kinds: a sha256 matches exactly, a dHash within placeholderDistance bits.
    placeholderHashes: new Set(settings.placeholderHashes.filter(isSha256).map((h) => h.toLowerCase())),
    placeholderDHashes: settings.placeholderHashes.filter(isDHash).map((h) => h.toLowerCase()),
    placeholderDistance: settings.placeholderDistance,
  };
  return async (bytes) => {
    const inspected = await inspectImage(bytes, limits);
    if ('ok' in inspected) {
      const failure = { kind: inspected.kind, message: inspected.message };
      return { status: 'failed', failure, bytes: bytes.length, sha256: inspected.sha256 };
    }
    // Memory first, then a CPU slot: a slot is never held while waiting for memory.
    const releaseMemory = await memory.acquire(inspected.decodeBytes);
    try {
      const release = await decodes.acquire();
      try {
        return await checkBody(bytes, inspected, limits, settings.resize);
      } finally {
        release();
      }
    } finally {
      releaseMemory();
    }
  };
}

async function checkBody(
  bytes: Buffer,
  inspected: Inspection,
  limits: ValidateOptions,
  resize: Settings['resize'],
): Promise<Verdict> {
  const valid = await decodeImage(bytes, inspected, limits);
  if (!valid.ok) {
    const failure = { kind: valid.kind, message: valid.message };
    return { status: 'failed', failure, bytes: bytes.length, sha256: valid.sha256 };
  }
  const { sha256, width, height } = valid;
  const image = { body: bytes, ext: valid.format, sha256, bytes: bytes.length, width, height };
  if (!resize) return { status: 'passed', image };
  try {
    return { status: 'passed', image: { ...image, body: await resizeImage(bytes, resize), ext: 'jpg' } };
  } catch (error) {
    // A decoder failure is the image's fault (corrupt), not a local write failure.
    return { status: 'failed', failure: fail.unresizable(error), bytes: bytes.length, sha256 };
  }
}

/** What `Dedup.judge` decides: the outcome, and the holder it takes the image from, if any. */
export interface Judged {
  outcome: Outcome;
  /** A class later in the run's order held this image: it gives it back (`CommitSink.revoke`). */
  displaced?: Holder;
}

/**
 * Stage 3, in each class's list order: exact duplicates (sha256) of any image on disk or committed
 * before, in any class. An image belongs to the first class in the run's order that has it (rank
 * 0 first), and within a class to its first URL — so, though classes commit concurrently, who
 * keeps an image depends on the lists alone: a class earlier in the order takes an image back
 * from a later one that committed it first.
 */
/** Who keeps an image: this run's `Dedup`, or one shared by a queue's workers through Redis. */
export interface Deduplicator {
  judge(
    checked: Exclude<Checked, { status: 'cancelled' | 'failed' }>,
    rank: number,
  ): Judged | Promise<Judged>;
  /** Where the class that kept an image stored it (known once committed). */
  stored(sha256: string, file: string | undefined): void | Promise<void>;
}

export class Dedup implements Deduplicator {
  constructor(private readonly holders: Map<string, Holder>) {}

  judge(checked: Exclude<Checked, { status: 'cancelled' | 'failed' }>, rank: number): Judged {
    const { url, index, timeMs, image } = checked;
    const { sha256, bytes } = image;
    const holder = this.holders.get(sha256);
    if (holder && holder.rank <= rank)
      return { outcome: { url, index, timeMs, status: 'duplicate', sha256, bytes } };
    this.holders.set(sha256, { rank, url });
    return { outcome: { ...checked, status: 'ok' }, displaced: holder };
  }

  /** Where the class that kept an image stored it (known once committed). */
  stored(sha256: string, file: string | undefined): void {
    const holder = this.holders.get(sha256);
    if (holder) holder.file = file;
  }
}
