import { type EvalSplit, evaluateModel, type Precision, type TestTimeAugmentation } from '@resnet-ts/train';
import { useInferenceBackend } from '../backend';
import type { Io } from '../io';

export interface EvalFlags {
  model: string;
  data?: string;
  split?: EvalSplit;
  batchSize?: number;
  tta?: TestTimeAugmentation;
  backend: string;
  precision?: Precision;
  json?: boolean;
}

const pct = (v: number) => (Number.isNaN(v) ? '   –  ' : `${(v * 100).toFixed(2).padStart(6)}%`);

export async function runEval(flags: EvalFlags, io: Io): Promise<number> {
  const backend = await useInferenceBackend(flags.backend, io);
  const result = await evaluateModel({
    model: flags.model,
    data: flags.data,
    split: flags.split,
    batchSize: flags.batchSize,
    tta: flags.tta,
    precision: flags.precision,
  });
  if (flags.json) {
    io.stdout(`${JSON.stringify({ ...result, backend }, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(5, ...result.classes.map((c) => c.length));
  const lines = [
    `${result.data} (${result.split}): ${result.count} images${result.tta === 'flip' ? ', each averaged with its mirror image' : ''}; backend ${backend}`,
    `loss ${result.loss.toFixed(4)}  top-1 ${pct(result.top1).trim()}  top-5 ${pct(result.top5).trim()}`,
    '',
    `${'class'.padEnd(width)}  accuracy`,
    ...result.classes.map((c, i) => `${c.padEnd(width)}  ${pct(result.perClassAccuracy[i] ?? Number.NaN)}`),
  ];
  if (result.classes.length <= 30) {
    const cell = Math.max(4, ...result.confusion.flat().map((v) => String(v).length)) + 1;
    lines.push('', 'confusion matrix (rows: true class, columns: predicted, in the order above)');
    result.confusion.forEach((row, i) => {
      lines.push(
        `${(result.classes[i] as string).padEnd(width)} ${row.map((v) => String(v).padStart(cell)).join('')}`,
      );
    });
  }
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
