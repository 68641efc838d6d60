import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { DatasetError } from './dataset';

export interface ArchiveEntry {
  /** Path inside the archive, without a leading `./`. */
  name: string;
  data: Buffer;
}

export function isTarArchive(file: string): boolean {
  return /\.(tar|tar\.gz|tgz)$/i.test(file);
}

/** Reads every regular file of a `.tar`, `.tar.gz` or `.tgz` archive (streamed, never extracted). */
export async function readTarArchive(
  file: string,
  keep: (name: string) => boolean = () => true,
): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const input = createReadStream(file);
  const tar = extract();
  const gzipped = /\.(tar\.gz|tgz)$/i.test(file);
  const failed = new Promise<never>((_, reject) => {
    const fail = (error: Error) =>
      reject(
        new DatasetError(`${file}: not a readable tar${gzipped ? '.gz' : ''} archive (${error.message})`),
      );
    input.on('error', fail);
    tar.on('error', fail);
    if (gzipped) input.pipe(createGunzip().on('error', fail)).pipe(tar);
    else input.pipe(tar);
  });
  const read = (async () => {
    for await (const entry of tar) {
      const name = entry.header.name.replace(/^\.\//, '');
      if (entry.header.type !== 'file' || !keep(name)) {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push({ name, data: Buffer.concat(chunks) });
    }
    return entries;
  })();
  return Promise.race([read, failed]);
}
