import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';

/** Writes a .tar.gz holding `entries` (path → bytes). */
export async function writeTarGz(file: string, entries: Record<string, Uint8Array>): Promise<void> {
  const tar = pack();
  const done = pipeline(tar, createGzip(), createWriteStream(file));
  for (const [name, data] of Object.entries(entries))
    tar.entry({ name, size: data.length }, Buffer.from(data));
  tar.finalize();
  await done;
}
