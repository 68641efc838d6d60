import { readdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic';
import type { ClassInfo } from './classes';
import { safeFolderName } from './paths';

/** Folders that may not share a name: one case-insensitive file system holds them in one. */
const key = (folder: string) => folder.normalize('NFC').toLowerCase();
const withWnid = (name: string, wnid: string) => `${name} (${wnid})`;

const countBy = <T>(items: T[], by: (item: T) => string) => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(by(item), (counts.get(by(item)) ?? 0) + 1);
  return counts;
};

/** Class → folder, as assigned so far: the file's, plus what the `assign` steps add. */
class Assignment {
  readonly folders: Map<string, string>;
  private readonly takenBy: Map<string, string>;
  constructor(saved: Record<string, string>) {
    this.folders = new Map(Object.entries(saved));
    this.takenBy = new Map([...this.folders].map(([wnid, folder]) => [key(folder), wnid]));
  }
  has = (c: ClassInfo) => this.folders.has(c.wnid);
  taken = (folder: string) => this.takenBy.has(key(folder));
  uses = (folder: string) => [...this.folders.values()].includes(folder);
  assign(c: ClassInfo, folder: string): void {
    this.folders.set(c.wnid, folder);
    this.takenBy.set(key(folder), c.wnid);
  }
}

/**
 * A scrape made before folders.json named folders by the selected classes, case-sensitively: a
 * class whose folder by that rule is on disk keeps it (on disk, the names coexist on this file
 * system, whatever their case).
 */
async function adoptLegacyFolders(assignment: Assignment, classes: ClassInfo[], out: string) {
  const onDisk = new Set(await readdir(out).catch(() => [] as string[]));
  const named = countBy(classes, (c) => safeFolderName(c.name, c.wnid));
  for (const c of classes.filter((c) => !assignment.has(c))) {
    const name = safeFolderName(c.name, c.wnid);
    const legacy = (named.get(name) ?? 0) > 1 ? withWnid(name, c.wnid) : name;
    if (onDisk.has(legacy) && !assignment.uses(legacy)) assignment.assign(c, legacy);
  }
}

/** New classes get their safe name, or it with the wnid where another class has or wants it. */
function nameNewFolders(assignment: Assignment, classes: ClassInfo[]) {
  const fresh = classes.filter((c) => !assignment.has(c));
  const wanted = countBy(fresh, (c) => key(safeFolderName(c.name, c.wnid)));
  for (const c of fresh) {
    const name = safeFolderName(c.name, c.wnid);
    const shared = (wanted.get(key(name)) ?? 0) > 1 || assignment.taken(name);
    assignment.assign(c, shared ? withWnid(name, c.wnid) : name);
  }
}

/**
 * Each class's folder, kept in `file` so that a later run with more classes never renames a folder
 * it made. A name that two classes would share, also when they differ only in case (a
 * case-insensitive file system holds them in one folder), gets the wnid: ImageNet has two "crane"s,
 * and "Cardigan" (the dog) and "cardigan".
 */
export async function assignFolders(
  file: string,
  classes: ClassInfo[],
  out: string,
): Promise<Map<string, string>> {
  const saved = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as Record<string, string>,
    () => ({}) as Record<string, string>,
  );
  const assignment = new Assignment(saved);
  await adoptLegacyFolders(assignment, classes, out);
  nameNewFolders(assignment, classes);
  const { folders } = assignment;
  if (folders.size > Object.keys(saved).length)
    await writeFileAtomic(file, JSON.stringify(Object.fromEntries(folders), null, 1));
  return folders;
}
