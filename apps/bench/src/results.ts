import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '@resnet-ts/train';

/** A results folder `bench-results/<time>-<kind>/` (git-ignored). */
export async function resultsDir(root: string, kind: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = path.join(root, `${stamp}-${kind}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Writes (or rewrites, as results grow) one result file atomically. */
export async function writeResult(dir: string, name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFileAtomic(file, content);
  return file;
}
