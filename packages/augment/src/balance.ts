import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type AugmentStep, compose } from './compose';
import { decodeImage, encodeImage, type ImageFormat } from './image';
import { randomInt, sampleRandom } from './random';

export interface BalanceOptions {
  /** Images every class folder ends with. */
  perClass: number;
  /** Where the balanced tree goes. Default: the source tree itself (variants beside the originals). */
  outDir?: string;
  /** Augmentation of each variant. Default: a horizontal flip and mild colour jitter. */
  ops?: AugmentStep[];
  /** Sample classes above `perClass` down to it (needs an `outDir`; originals are never deleted). */
  downsample?: boolean;
  seed?: number;
}

export interface BalanceEntry {
  class: string;
  file: string;
  /** The original it was made from. */
  source: string;
  kind: 'original' | 'variant';
  ops?: AugmentStep[];
  seed?: number;
  index?: number;
}

export interface BalanceReport {
  /** Per class: originals found, files written now, files removed (left over from an earlier run), images it ends with. */
  classes: Record<string, { originals: number; written: number; removed: number; total: number }>;
  manifest: string;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
/** Variants are named `aug-<index>-<source name>` and are never counted as originals. */
const VARIANT_PREFIX = 'aug-';
export const DEFAULT_BALANCE_OPS: AugmentStep[] = [
  { op: 'flip', horizontal: 1 },
  { op: 'colorJitter', brightness: 0.1, contrast: 0.1, saturation: 0.1 },
];

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

function formatOf(file: string): ImageFormat {
  const ext = extname(file).toLowerCase();
  return ext === '.png' ? 'png' : ext === '.webp' ? 'webp' : 'jpeg';
}

/**
 * The original project's class balancing, done so it can be re-run: every class folder of `srcDir`
 * ends with exactly `perClass` images. Missing images are augmented variants of the originals
 * (round-robin, deterministic names and randomness), originals are never modified, an existing
 * variant is not written again, and `balance-manifest.jsonl` records what each file came from.
 */
export async function balanceClasses(srcDir: string, options: BalanceOptions): Promise<BalanceReport> {
  const { perClass, downsample = false, seed = 0 } = options;
  const ops = options.ops ?? DEFAULT_BALANCE_OPS;
  const outDir = options.outDir ?? srcDir;
  if (!Number.isInteger(perClass) || perClass < 1)
    throw new RangeError(`perClass: expected a positive integer, got ${perClass}`);
  if (downsample && outDir === srcDir)
    throw new RangeError('downsample: needs an outDir (originals are never deleted)');
  if (!(await exists(srcDir))) throw new Error(`${srcDir}: no such directory`);
  const pipeline = compose({ steps: ops });

  const entries = await readdir(srcDir, { withFileTypes: true });
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classes.length === 0) throw new Error(`${srcDir}: expected one sub-folder per class, found none`);

  const manifest: BalanceEntry[] = [];
  const report: BalanceReport = { classes: {}, manifest: join(outDir, 'balance-manifest.jsonl') };
  // What an earlier run wrote: a variant is reused only if made the same way, and what this run
  // no longer wants (a smaller perClass, another downsample) is removed.
  const previous = await readManifest(report.manifest);
  for (const [classIndex, name] of classes.entries()) {
    const files = (await readdir(join(srcDir, name)))
      .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()) && !f.startsWith(VARIANT_PREFIX))
      .sort();
    if (files.length === 0) throw new Error(`${join(srcDir, name)}: class folder has no images`);
    const target = join(outDir, name);
    await mkdir(target, { recursive: true });

    let originals = files;
    if (downsample && files.length > perClass) {
      // A seeded partial shuffle picks which originals stay.
      const random = sampleRandom(seed, -1, classIndex);
      const pool = [...files];
      for (let i = 0; i < perClass; i++) {
        const j = i + randomInt(random, pool.length - i);
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      originals = pool.slice(0, perClass).sort();
    }
    let written = 0;
    const wanted = new Set<string>();
    for (const file of originals) {
      wanted.add(file);
      if (outDir !== srcDir && !(await exists(join(target, file)))) {
        await copyFile(join(srcDir, name, file), join(target, `${file}.tmp`));
        await rename(join(target, `${file}.tmp`), join(target, file));
        written++;
      }
      manifest.push({ class: name, file, source: file, kind: 'original' });
    }
    for (let index = 0; index < perClass - originals.length; index++) {
      const source = originals[index % originals.length]!;
      const file = `${VARIANT_PREFIX}${index}-${source}`;
      const entry: BalanceEntry = { class: name, file, source, kind: 'variant', ops, seed, index };
      manifest.push(entry);
      wanted.add(file);
      const before = previous.get(`${name}/${file}`);
      if (before && sameVariant(before, entry) && (await exists(join(target, file)))) continue;
      const image = await decodeImage(join(srcDir, name, source));
      const { image: variant } = await pipeline(image, { seed, epoch: classIndex, index });
      await writeAtomically(join(target, file), await encodeImage(variant, formatOf(source), 95));
      written++;
    }
    let removed = 0;
    for (const file of await readdir(target)) {
      if (wanted.has(file)) continue;
      const before = previous.get(`${name}/${file}`);
      // Only what an earlier run recorded making: a user's own `aug-…` photo is never touched.
      const ours = before?.kind === 'variant' || (outDir !== srcDir && before?.kind === 'original');
      if (!ours) continue;
      await rm(join(target, file), { force: true });
      removed++;
    }
    report.classes[name] = {
      originals: files.length,
      written,
      removed,
      total: Math.max(perClass, originals.length),
    };
  }
  await writeAtomically(report.manifest, `${manifest.map((e) => JSON.stringify(e)).join('\n')}\n`);
  return report;
}

/** The entries of an earlier run's manifest by `<class>/<file>`; none if there is none. */
async function readManifest(file: string): Promise<Map<string, BalanceEntry>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const entries = new Map<string, BalanceEntry>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as BalanceEntry;
      entries.set(`${entry.class}/${entry.file}`, entry);
    } catch {
      // A damaged line: its variant is made again, which is always safe.
    }
  }
  return entries;
}

function sameVariant(a: BalanceEntry, b: BalanceEntry): boolean {
  return (
    a.kind === 'variant' &&
    a.source === b.source &&
    a.seed === b.seed &&
    a.index === b.index &&
    JSON.stringify(a.ops) === JSON.stringify(b.ops)
  );
}
