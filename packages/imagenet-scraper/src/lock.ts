import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { ScrapeConfigError } from './errors';

/** Who holds an output folder: what `.scrape/lock` records. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the run took the lock. */
  startedAt: string;
}

interface LockRecord extends LockHolder {
  /** Tells this run's lock from a later one with the same pid. */
  token: string;
}

/** A second run on an output folder in use: refused, with the folder and its holder named. */
export class OutputLockedError extends ScrapeConfigError {
  override name = 'OutputLockedError';
  constructor(
    message: string,
    readonly out: string,
    readonly holder?: LockHolder,
  ) {
    super(message);
  }
}

export interface OutputLock {
  /** Removes the lock if it is still this run's. Safe to call twice. */
  release(): Promise<void>;
}

/** Locks this process holds: lock file → token. A lock with this pid not listed is a dead process's. */
const held = new Map<string, string>();

const errno = (error: unknown) => (error as NodeJS.ErrnoException).code;

// A run ended by process.exit() skips `finally`: its locks go with it, not left for takeover.
let exitHook = false;
function removeOnExit() {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [file, token] of held) {
      try {
        if (readFileSync(file, 'utf8').includes(token)) unlinkSync(file);
      } catch {
        // gone already
      }
    }
  });
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (typeof value.pid === 'number' && typeof value.hostname === 'string') return value as LockRecord;
  } catch {
    // not a lock this package wrote
  }
  return undefined;
}

/** Whether `pid` is a live process on this host (one of another user's counts as live). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errno(error) === 'EPERM';
  }
}

/** Stale: its process is gone. Only known on this host; another host's lock is never taken over. */
function stale(record: LockRecord, file: string): boolean {
  if (record.hostname !== os.hostname()) return false;
  // Our own pid but not ours: a killed run whose pid this process got (common in containers).
  if (record.pid === process.pid) return !held.has(file);
  return !alive(record.pid);
}

/**
 * Creates `file` with `text` only if it does not exist, and whole: written to a temp file, then
 * hard-linked into place (atomic and exclusive). Without hard links, an exclusive create.
 */
async function createExclusive(file: string, text: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(temp, text);
    await link(temp, file);
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(errno(error) ?? '')) throw error;
    return writeFile(file, text, { flag: 'wx' }).then(
      () => true,
      (e: unknown) => {
        if (errno(e) === 'EEXIST') return false;
        throw e;
      },
    );
  } finally {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** Moves a stale lock aside; one that changed meanwhile (another run took over first) is put back. */
async function takeOver(file: string, seen: string): Promise<void> {
  const aside = `${file}.${process.pid}.${randomUUID()}.stale`;
  try {
    await rename(file, aside);
  } catch (error) {
    if (errno(error) === 'ENOENT') return; // released or taken over meanwhile: try again
    throw error;
  }
  try {
    if ((await readFile(aside, 'utf8')) !== seen) await link(aside, file).catch(() => undefined);
  } finally {
    await rm(aside, { force: true });
  }
}

function refused(out: string, file: string, record: LockRecord | undefined): OutputLockedError {
  if (!record)
    return new OutputLockedError(
      `out: ${out} is locked by ${file}, which is not a scrape lock; delete it if no other scrape uses the folder`,
      out,
    );
  const { pid, hostname, startedAt } = record;
  const holder = { pid, hostname, startedAt };
  const elsewhere = hostname === os.hostname() ? '' : `; if that run is gone, delete ${file}`;
  return new OutputLockedError(
    `out: ${out} is in use by another scrape (pid ${pid} on ${hostname}, since ${startedAt})${elsewhere}`,
    out,
    holder,
  );
}

/**
 * Takes the output folder's lock (`file`, in `.scrape/`) for this run, or refuses with one line
 * naming the folder and the run holding it. A lock whose process is gone (on this host) is taken
 * over. Released by `release()`, and on process exit.
 */
export async function lockOutput(out: string, file: string): Promise<OutputLock> {
  const record: LockRecord = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  };
  const text = `${JSON.stringify(record)}\n`;
  for (let tries = 0; tries < 5; tries++) {
    if (await createExclusive(file, text)) {
      held.set(file, record.token);
      removeOnExit();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          held.delete(file);
          const now = await readFile(file, 'utf8').catch(() => '');
          if (now.includes(record.token)) await rm(file, { force: true });
        },
      };
    }
    const current = await readFile(file, 'utf8').catch((error: unknown) => {
      if (errno(error) === 'ENOENT') return undefined; // released meanwhile: try again
      throw error;
    });
    if (current === undefined) continue;
    const holder = parseRecord(current);
    if (!holder || !stale(holder, file)) throw refused(out, file, holder);
    await takeOver(file, current);
  }
  throw refused(out, file, parseRecord(await readFile(file, 'utf8').catch(() => '')));
}
