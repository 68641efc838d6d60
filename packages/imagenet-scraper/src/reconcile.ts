import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ClassInfo } from './classes';
import { assignFolders } from './folders';
import { type ManifestEntry, readManifest } from './manifest';
import { IMAGE_FILE, type StateLayout } from './paths';
import type { ClassWork, Holder } from './stages';
import { ScrapeStats } from './stats';

export interface ReconcileInput {
  out: string;
  layout: StateLayout;
  classes: ClassInfo[];
  urls: Map<string, string[]>;
  flickrOnly: boolean;
}

export interface Reconciled {
  /** One work item per class, in the classes' order. */
  work: ClassWork[];
  /** Every image on disk by sha256, with the class holding it (exact duplicates are skipped everywhere). */
  seen: Map<string, Holder>;
}

/**
 * A class's manifest against the images it still has (`has(file)`: its folder's, or a WebDataset's
 * staged and sharded ones): an `ok` line whose file is gone is unsettled; a repeated URL keeps its image.
 */
export function settle(entries: ManifestEntry[], has: (file: string) => boolean) {
  const settled = new Map<string, ManifestEntry>();
  const unneeded = new Set<string>();
  for (const e of entries) {
    if (e.status === 'unneeded') {
      unneeded.add(e.url);
      continue;
    }
    if (e.status === 'ok' && !(e.file && has(e.file))) continue;
    if (settled.get(e.url)?.status === 'ok') continue; // a repeated URL keeps its image
    settled.set(e.url, e);
  }
  const images = [...settled.values()].filter((e) => e.status === 'ok');
  return { settled, unneeded, images };
}

/**
 * What one class's folder and manifest hold (`owned`: its image files); files without a line (a
 * kill's orphans) are deleted.
 */
export async function reconcileClass(
  classDir: string,
  manifest: string,
  wnid: string,
  seen: Map<string, Holder>,
) {
  await mkdir(classDir, { recursive: true });
  const entries = await readManifest(manifest);
  const listed = await readdir(classDir);
  const present = new Set(listed);
  // An image an earlier class also holds (a kill before the later class gave it back) is the
  // earlier class's: the later copy goes, and its URL is tried again (and found a duplicate).
  for (const e of entries)
    if (e.status === 'ok' && e.file && e.sha256 && seen.has(e.sha256)) present.delete(e.file);
  const state = settle(entries, (file) => present.has(file));
  const owned = new Set(state.images.map((e) => e.file as string));
  for (const file of listed) {
    if (IMAGE_FILE.test(file) && file.startsWith(`${wnid}_`) && !owned.has(file))
      await rm(path.join(classDir, file), { force: true });
  }
  return { ...state, owned };
}

/**
 * Stage 1: the resume state. Clears a killed run's temp files, gives each class its folder, and
 * reconciles every class before anything is downloaded, so that duplicates are found across all of
 * them: a URL whose image vanished is tried again, and its orphaned file's URL too.
 */
export async function reconcile(input: ReconcileInput): Promise<Reconciled> {
  const { layout } = input;
  await rm(layout.temp, { recursive: true, force: true });
  await mkdir(layout.manifests, { recursive: true });
  await mkdir(layout.temp, { recursive: true });
  const folders = await assignFolders(layout.folders, input.classes, input.out);
  const work: ClassWork[] = [];
  const seen = new Map<string, Holder>();
  for (const [rank, info] of input.classes.entries()) {
    const folder = folders.get(info.wnid) as string;
    const classDir = path.join(input.out, folder);
    const state = await reconcileClass(classDir, layout.manifest(info.wnid), info.wnid, seen);
    for (const e of state.images) if (e.sha256) seen.set(e.sha256, { rank, url: e.url, file: e.file });
    const urls = (input.urls.get(info.wnid) ?? []).filter(
      (u) => !input.flickrOnly || ScrapeStats.group(u) === 'flickr',
    );
    const pending = urls.filter((u) => !state.settled.has(u));
    work.push({ info, folder, urls, pending, saved: state.owned.size, unneeded: state.unneeded });
  }
  return { work, seen };
}
