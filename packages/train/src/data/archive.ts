import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { publishAtomic } from '../files';
import { DatasetError } from './dataset';

export interface ArchiveEntry {
  /** Path inside the archive, without a leading `./`. */
  name: string;
  data: Buffer;
}

export function isTarArchive(file: string): boolean {
  return /\.(tar|tar\.gz|tgz)$/i.test(file);
}

/**
 * Streams the regular files of a `.tar`, `.tar.gz` or `.tgz` archive that `keep` accepts to `onEntry`,
 * one at a time; `onEntry` returning `false` stops reading there.
 */
export async function forEachTarEntry(
  file: string,
  keep: (name: string) => boolean,
  onEntry: (entry: ArchiveEntry) => unknown,
): Promise<void> {
  const input = createReadStream(file);
  const tar = extract();
  const gzipped = /\.(tar\.gz|tgz)$/i.test(file);
  let stopped = false;
  const failed = new Promise<never>((_, reject) => {
    const fail = (error: Error) => {
      if (!stopped)
        reject(
          new DatasetError(`${file}: not a readable tar${gzipped ? '.gz' : ''} archive (${error.message})`),
        );
    };
    input.on('error', fail);
    tar.on('error', fail);
    if (gzipped) input.pipe(createGunzip().on('error', fail)).pipe(tar);
    else input.pipe(tar);
  });
  let current: { destroy: (error?: Error) => void } | undefined;
  const read = (async () => {
    try {
      for await (const entry of tar) {
        current = entry;
        const name = entry.header.name.replace(/^\.\//, '');
        if (entry.header.type !== 'file' || !keep(name)) {
          entry.resume();
          continue;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        if ((await onEntry({ name, data: Buffer.concat(chunks) })) === false) break; // destroys `tar`
      }
    } finally {
      stopped = true; // errors from tearing the streams down are not the archive's
      input.destroy();
    }
  })();
  // Whichever settles second must not surface as an unhandled rejection; the race still sees both.
  for (const promise of [read, failed]) promise.catch(() => undefined);
  try {
    await Promise.race([read, failed]);
  } catch (error) {
    // A broken archive: stop reading and let an entry being handled finish before the caller cleans up.
    // Destroyed with the error: streamx ends a pending iteration only when given one.
    current?.destroy(error as Error);
    tar.destroy(error as Error);
    input.destroy();
    await read.catch(() => undefined);
    throw error;
  }
}

/** Reads every regular file of a `.tar`, `.tar.gz` or `.tgz` archive into memory (never extracted). */
export async function readTarArchive(
  file: string,
  keep: (name: string) => boolean = () => true,
): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  await forEachTarEntry(file, keep, (entry) => {
    entries.push(entry);
  });
  return entries;
}

/** How many regular files of the archive `keep` accepts (their contents are skipped, not read). */
export async function countTarEntries(file: string, keep: (name: string) => boolean): Promise<number> {
  let count = 0;
  await forEachTarEntry(
    file,
    (name) => {
      if (keep(name)) count++;
      return false;
    },
    () => undefined,
  );
  return count;
}

/** The archive's first file that `keep` accepts, reading no further than it. */
export async function firstTarEntry(
  file: string,
  keep: (name: string) => boolean,
): Promise<ArchiveEntry | undefined> {
  let first: ArchiveEntry | undefined;
  await forEachTarEntry(file, keep, (entry) => {
    first = entry;
    return false;
  });
  return first;
}

/**
 * Extracts the files `keep` accepts into `dir`, which appears only once complete (written to a
 * temporary sibling, then renamed); an existing `dir` is taken as already extracted. Names that would
 * land outside `dir` (absolute, or with `..`) are errors naming the entry.
 */
export async function extractTarArchive(
  file: string,
  dir: string,
  keep: (name: string) => boolean = () => true,
): Promise<string> {
  const extracted = () =>
    stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
  if (await extracted()) return dir;
  // Another process extracting the same archive at the same time: the first to finish wins.
  await publishAtomic(
    dir,
    async (temp) => {
      await mkdir(temp, { recursive: true });
      await forEachTarEntry(file, keep, async ({ name, data }) => {
        const parts = name.split('/');
        if (path.posix.isAbsolute(name) || parts.includes('..'))
          throw new DatasetError(`${file}: entry ${name} would be extracted outside its folder`);
        const target = path.join(temp, ...parts);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, data);
      });
    },
    { existing: 'keep' },
  );
  return dir;
}
