#!/usr/bin/env node
// Summarises a training run's per-epoch log as the markdown table and numbers the root README
// quotes for a run in progress: validation/training top-1 at epoch 1, every 5th epoch and the last,
// the best epoch, and median speed and data-wait share.
//
//   node scripts/run-progress.mjs runs/cifar10-resnet20-e120-re [--every 5]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [runDir, ...rest] = process.argv.slice(2);
if (!runDir) {
  console.error('usage: node scripts/run-progress.mjs <runDir> [--every N]');
  process.exit(2);
}
const everyFlag = rest.indexOf('--every');
const every = everyFlag >= 0 ? Number(rest[everyFlag + 1]) : 5;
if (!Number.isInteger(every) || every < 1) {
  console.error(`run-progress: --every must be a positive integer, got ${rest[everyFlag + 1]}`);
  process.exit(2);
}

const metricsPath = join(runDir, 'logs', 'metrics.jsonl');
let text;
try {
  text = readFileSync(metricsPath, 'utf8');
} catch (error) {
  console.error(`run-progress: cannot read ${metricsPath}: ${error.message}`);
  process.exit(1);
}

// A resumed run logs an epoch again if it was interrupted after logging; the last line wins.
const byEpoch = new Map();
for (const line of text.split('\n')) {
  if (!line.includes('"type":"epoch"')) continue;
  const record = JSON.parse(line);
  byEpoch.set(record.epoch, record);
}
const epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
if (epochs.length === 0) {
  console.error(`run-progress: ${metricsPath} has no epoch records yet`);
  process.exit(1);
}

const percent = (fraction) => (fraction === undefined ? '–' : `${(fraction * 100).toFixed(1)}%`);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const last = epochs.at(-1);
const shown = epochs.filter((e) => e.epoch === 1 || e.epoch % every === 0 || e === last);
// A run without validation (valSplit 0) has no best epoch.
const validated = epochs.filter((e) => e.val);
const best = validated.length ? validated.reduce((a, b) => (b.val.top1 > a.val.top1 ? b : a)) : undefined;
const row = (label, cells) => `| ${label} | ${cells.join(' | ')} |`;

console.log(
  row(
    'epoch',
    shown.map((e) => String(e.epoch)),
  ),
);
console.log(
  row(
    '---',
    shown.map(() => '---'),
  ),
);
console.log(
  row(
    'validation top-1',
    shown.map((e) => (e === best ? `**${percent(e.val?.top1)}**` : percent(e.val?.top1))),
  ),
);
console.log(
  row(
    'training top-1',
    shown.map((e) => percent(e.train.top1)),
  ),
);
console.log();
const seconds = median(epochs.map((e) => e.seconds));
let totalEpochs;
try {
  totalEpochs = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).epochs;
} catch {
  totalEpochs = undefined; // an older run without config.json: no estimate of what remains
}
const summary = {
  epochsDone: last.epoch,
  totalEpochs,
  bestEpoch: best?.epoch,
  bestValTop1: best?.val.top1,
  lastValTop1: last.val?.top1,
  medianImagesPerSecond: Math.round(median(epochs.map((e) => e.imagesPerSecond))),
  medianSecondsPerEpoch: Number(seconds.toFixed(1)),
  medianDataWaitShare: median(epochs.map((e) => e.dataWaitShare)),
  maxDataWaitShare: Math.max(...epochs.map((e) => e.dataWaitShare)),
  trainingHours: Number((epochs.reduce((sum, e) => sum + e.seconds, 0) / 3600).toFixed(2)),
  remainingHoursAtMedian:
    totalEpochs === undefined
      ? undefined
      : Number((((totalEpochs - last.epoch) * seconds) / 3600).toFixed(1)),
};
console.log(JSON.stringify(summary));
