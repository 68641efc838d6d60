import path from 'node:path';

/** Where a run directory keeps each of its files. */
export interface RunFiles {
  config: string;
  labels: string;
  preprocessing: string;
  split: string;
  checkpoint: string;
  metrics: string;
  tensorboard: string;
  model: string;
  best: string;
  report: string;
}

export function runFiles(outDir: string): RunFiles {
  return {
    config: path.join(outDir, 'config.json'),
    labels: path.join(outDir, 'labels.json'),
    preprocessing: path.join(outDir, 'preprocessing.json'),
    split: path.join(outDir, 'split.json'),
    checkpoint: path.join(outDir, 'checkpoint'),
    metrics: path.join(outDir, 'logs', 'metrics.jsonl'),
    tensorboard: path.join(outDir, 'logs', 'tensorboard'),
    model: path.join(outDir, 'model'),
    best: path.join(outDir, 'best'),
    report: path.join(outDir, 'report.html'),
  };
}
