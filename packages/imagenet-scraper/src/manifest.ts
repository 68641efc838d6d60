import { appendFile, readFile, truncate } from 'node:fs/promises';
import type { ErrorKind, UrlStatus } from './errors';
import type { Outcome, TriedEntry } from './stages';

/** One settled URL. `unneeded` marks URLs left untried once the class reached its quota. */
export interface ManifestEntry {
  url: string;
  status: UrlStatus;
  kind?: ErrorKind;
  httpStatus?: number;
  message?: string;
  bytes?: number;
  sha256?: string;
  width?: number;
  height?: number;
  /** File name inside the class folder (status ok). */
  file?: string;
}

/** Reads a JSONL manifest; a torn last line (killed mid-write) is ignored. */
export async function readManifest(file: string): Promise<ManifestEntry[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text !== '' && !text.endsWith('\n')) {
    // A torn last line: cut it off, or the next append would glue a valid line onto it.
    await truncate(file, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
  }
  const entries: ManifestEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as ManifestEntry);
    } catch {
      // torn line: its URL is simply not settled
    }
  }
  return entries;
}

/** Appends entries as one write, so a line is whole or absent. */
export async function appendManifest(file: string, entries: ManifestEntry[]): Promise<void> {
  if (entries.length > 0) await appendFile(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

/** An outcome's line (`file`: where an ok image was stored). The key order is the file format. */
export function manifestLine(outcome: Outcome, file?: string): TriedEntry {
  const { url } = outcome;
  if (outcome.status === 'ok') {
    const { sha256, bytes, width, height } = outcome.image;
    return { url, status: 'ok', sha256, bytes, width, height, file };
  }
  if (outcome.status === 'duplicate')
    return { url, status: 'duplicate', kind: 'duplicate', sha256: outcome.sha256, bytes: outcome.bytes };
  const { kind, status: httpStatus, message } = outcome.failure;
  return { url, status: 'failed', kind, httpStatus, message, bytes: outcome.bytes, sha256: outcome.sha256 };
}

export const unneededLine = (url: string): ManifestEntry => ({ url, status: 'unneeded' });
