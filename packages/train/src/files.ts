import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** Flushes a file or directory entry to disk, so a rename after it cannot outlive its contents. */
async function sync(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const exists = async (p: string) => (await stat(p).catch(() => undefined)) !== undefined;

/** What to do when `target` exists by the time the new one is ready. */
export type WhenExisting = 'replace' | 'keep';

/**
 * The one way this package writes a file or a folder: `fill(temp)` creates it at a temporary path
 * beside `target` (unique to this call), then it is renamed into place, so nobody ever sees a
 * partial `target`. A failed `fill` leaves nothing behind. `existing: 'keep'` keeps a `target` that
 * another process published first (a shared cache) and returns false; `replace` (the default) puts
 * the new one in its place.
 */
export async function publishAtomic(
  target: string,
  fill: (temp: string) => Promise<void>,
  options: { existing?: WhenExisting } = {},
): Promise<boolean> {
  await mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fill(temp);
    if (options.existing === 'keep' && (await exists(target))) {
      await rm(temp, { recursive: true, force: true });
      return false;
    }
    const replaced = (await stat(target).catch(() => undefined))?.isDirectory() ? `${temp}.old` : undefined;
    if (replaced) await rename(target, replaced); // rename cannot replace a folder
    await rename(temp, target);
    if (replaced) await rm(replaced, { recursive: true, force: true });
    return true;
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    // Another process published the same thing first: use it.
    if (options.existing === 'keep' && (await exists(target))) return false;
    throw error;
  }
}

/**
 * Writes a file atomically and durably: a killed process or a power cut leaves the old file or the
 * new one, never half (the data reaches the disk before the rename, the rename before we return).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await publishAtomic(file, async (temp) => {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
  await sync(path.dirname(file));
}

/**
 * Fills a directory through `fill(tempDir)`, then swaps it into place. A kill or a power cut at any
 * moment leaves the old directory, the new one, or the old one parked as `<dir>.old`, which
 * `recoverDir` puts back.
 */
export async function writeDirAtomic(dir: string, fill: (temp: string) => Promise<void>): Promise<void> {
  await recoverDir(dir);
  const temp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await mkdir(temp, { recursive: true });
  await fill(temp);
  for (const entry of await readdir(temp, { recursive: true })) await sync(path.join(temp, entry));
  await sync(temp);
  await rename(dir, old).catch(() => undefined);
  await rename(temp, dir);
  await sync(path.dirname(dir));
  await rm(old, { recursive: true, force: true });
}

/** Finishes or rolls back an interrupted {@link writeDirAtomic}: restores `<dir>.old`, drops `<dir>.tmp`. */
export async function recoverDir(dir: string): Promise<void> {
  if (!(await exists(dir)) && (await exists(`${dir}.old`))) await rename(`${dir}.old`, dir);
  await rm(`${dir}.tmp`, { recursive: true, force: true });
  await rm(`${dir}.old`, { recursive: true, force: true });
}

/** Reads and parses a JSON file; the error names the file and what is wrong with it. */
export async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`${file}: does not exist or cannot be read`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}
