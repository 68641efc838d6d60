import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FolderSink } from './commit';
import { ScrapeConfigError } from './errors';
import type { Settings } from './options';
import type { StateLayout } from './paths';
import { reconcile } from './reconcile';
import type { ClassWork, CommitSink, Holder } from './stages';
import { INDEX_FILE, openWebDataset } from './webdataset';

/** How a run ended, as the output's last step needs to know. */
export type RunEnd = 'done' | 'stopped' | 'failed';

/** Where accepted images go: the resume state (stage 1), the sink (stage 4) and its last step. */
export interface Output {
  work: ClassWork[];
  /** Every image already stored, by sha256, with the class holding it. */
  seen: Map<string, Holder>;
  sink: CommitSink;
  /**
   * After the pipeline, however it ended: writes what the format still holds back (the last,
   * partial shard) and waits for writes in the background. Throws only after `done` or `stopped`.
   */
  finish(end: RunEnd): Promise<void>;
}

/** The output `settings.outputFormat` names, reconciled: class folders, or WebDataset shards. */
export async function openOutput(settings: Settings, layout: StateLayout): Promise<Output> {
  if (settings.outputFormat === 'webdataset') return openWebDataset(settings, layout);
  // A folder run would scatter class folders beside shards whose manifests it then rewrites.
  if (await stat(path.join(settings.out, INDEX_FILE)).catch(() => undefined))
    throw new ScrapeConfigError(
      `outputFormat: ${settings.out} holds a WebDataset (${INDEX_FILE}); give outputFormat webdataset, or another out`,
    );
  const { work, seen } = await reconcile({ ...settings, layout });
  return { work, seen, sink: new FolderSink(settings.out, layout), finish: async () => undefined };
}
