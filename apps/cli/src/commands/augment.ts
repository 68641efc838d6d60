import type { AugmentStep } from '@resnet-ts/augment';
import { balanceClasses } from '@resnet-ts/augment';
import type { Io } from '../io';

export async function runAugment(
  dir: string,
  flags: {
    perClass: number;
    out?: string;
    downsample?: boolean;
    ops?: unknown;
    seed?: number;
    json?: boolean;
  },
  io: Io,
): Promise<number> {
  const report = await balanceClasses(dir, {
    perClass: flags.perClass,
    outDir: flags.out,
    downsample: flags.downsample,
    ops: flags.ops as AugmentStep[] | undefined,
    seed: flags.seed,
  });
  if (flags.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(5, ...Object.keys(report.classes).map((c) => c.length));
  io.stdout(`${'class'.padEnd(width)}  originals  written  removed  total\n`);
  for (const [name, c] of Object.entries(report.classes)) {
    io.stdout(
      `${name.padEnd(width)}  ${String(c.originals).padStart(9)}  ${String(c.written).padStart(7)}  ${String(c.removed).padStart(7)}  ${String(c.total).padStart(5)}\n`,
    );
  }
  io.stdout(`manifest: ${report.manifest}\n`);
  return 0;
}
