import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic';
import { writeFailed } from './errors';
import { appendManifest, manifestLine, unneededLine } from './manifest';
import { imageFileName, type StateLayout } from './paths';
import type { ClassWork, CommitSink, Holder, Outcome, TriedEntry } from './stages';

/**
 * Stage 4 into class folders: `<out>/<folder>/<wnid>_<sha256 prefix>.<ext>`, written to
 * `.scrape/tmp` and renamed into place, then its line appended to the class's manifest — the file
 * first, so a kill between the two leaves an orphan that the next reconcile deletes.
 */
export class FolderSink implements CommitSink {
  constructor(
    private readonly out: string,
    private readonly layout: StateLayout,
  ) {}

  async commit(work: ClassWork, outcome: Outcome): Promise<TriedEntry> {
    const file = outcome.status === 'ok' ? await this.store(work, outcome) : undefined;
    const entry = manifestLine(outcome, file);
    await appendManifest(this.layout.manifest(work.info.wnid), [entry]);
    return entry;
  }

  async unneeded(work: ClassWork, urls: string[]): Promise<void> {
    await appendManifest(this.layout.manifest(work.info.wnid), urls.map(unneededLine));
  }

  async revoke(work: ClassWork, holder: Holder, sha256: string): Promise<TriedEntry> {
    // The file first: a kill before the line leaves an ok line without its file, tried again.
    if (holder.file)
      await rm(path.join(this.out, work.folder, holder.file), { force: true }).catch((error: unknown) => {
        throw writeFailed(this.out, error);
      });
    const entry: TriedEntry = { url: holder.url, status: 'duplicate', kind: 'duplicate', sha256 };
    await appendManifest(this.layout.manifest(work.info.wnid), [entry]);
    return entry;
  }

  private async store(work: ClassWork, outcome: Outcome & { status: 'ok' }): Promise<string> {
    const { wnid } = work.info;
    const file = imageFileName(wnid, outcome.image.sha256, outcome.image.ext);
    const temp = this.layout.tempFile(wnid, outcome.index);
    await writeFileAtomic(path.join(this.out, work.folder, file), outcome.image.body, temp).catch(
      (error: unknown) => {
        throw writeFailed(this.out, error);
      },
    );
    return file;
  }
}
