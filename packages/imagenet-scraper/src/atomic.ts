import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `data` to `temp`, then renames it onto `file` (on the same file system): a reader, or a
 * run killed at any moment, sees the old file or the whole new one, never part of one. A failed
 * write removes its temp file where it can.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  temp = `${file}.tmp`,
): Promise<void> {
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
