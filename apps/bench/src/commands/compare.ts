import path from 'node:path';
import { type BackendChoice, NoFastBackendError, useBackend } from '@resnet-ts/backends';
import { countFlops } from '@resnet-ts/resnet-core';
import {
  describeMachine,
  type EpochRecord,
  lineChart,
  loadModel,
  type Precision,
  parseTrainConfig,
  refuseCpuTraining,
  type TrainConfigInput,
  train,
} from '@resnet-ts/train';
import { fixed, markdownTable, pct } from '../markdown';
import { modelList } from '../models';
import { resultsDir, writeResult } from '../results';

export interface CompareFlags {
  data: string;
  models: string;
  epochs: number;
  size: number;
  perClass?: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  normalization?: 'per-pixel-mean' | 'imagenet' | 'caffe' | 'tf' | 'none';
  valSplit: number;
  seed: number;
  backend: string;
  precision: Precision;
  workers: number;
  out: string;
}

export interface CompareRow {
  model: string;
  params: number;
  flops: number;
  /** Median training seconds per epoch (validation excluded), and images/s. */
  secondsPerEpoch: number;
  imagesPerSecond: number;
  epochs: {
    epoch: number;
    trainTop1: number;
    valTop1?: number;
    trainLoss: number;
    valLoss?: number;
    seconds: number;
  }[];
  bestValTop1?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** The original project's table: the same data, split and schedule for every architecture. */
export async function runCompare(
  flags: CompareFlags,
  print: (line: string) => void,
): Promise<{ rows: CompareRow[]; dir: string }> {
  const models = modelList(flags.models);
  const dir = await resultsDir(flags.out, 'compare');
  const rows: CompareRow[] = [];
  let machine: Record<string, string | number> | undefined;
  let table = '';
  const configs = models.map(
    (model): TrainConfigInput => ({
      data: flags.data,
      model,
      imageSize: flags.size,
      maxPerClass: flags.perClass,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      lr: flags.lr,
      optimizer: flags.optimizer,
      normalization: flags.normalization,
      schedule: 'onecycle',
      valSplit: flags.valSplit,
      seed: flags.seed,
      backend: flags.backend as 'auto',
      precision: flags.precision,
      workers: flags.workers,
      reportImages: 0,
    }),
  );
  // Training runs on the active backend, chosen here once: `auto` never ends on the pure-JS cpu
  // backend (the error says what is missing and what cpu would cost); cpu trains only when named.
  await useBackend(flags.backend as BackendChoice, { allowSlowCpu: false }).catch(async (error) => {
    if (!(error instanceof NoFastBackendError) || configs[0] === undefined) throw error;
    throw await refuseCpuTraining(parseTrainConfig(configs[0]), error);
  });
  for (const [index, model] of models.entries()) {
    const config = configs[index] as TrainConfigInput;
    let params = 0;
    const result = await train(config, {
      outDir: path.join(dir, model),
      onEvent: (event) => {
        if (event.type === 'start') params = event.params;
        if (event.type === 'epoch') print(JSON.stringify({ model, ...event }));
      },
    });
    machine ??= await describeMachine();
    const bundle = await loadModel(path.join(dir, model));
    const flops = countFlops(bundle.model);
    bundle.model.dispose();
    const trainSeconds = (r: EpochRecord) => r.train.count / r.imagesPerSecond;
    const row: CompareRow = {
      model,
      params,
      flops,
      secondsPerEpoch: median(result.history.map(trainSeconds)),
      imagesPerSecond: median(result.history.map((r) => r.imagesPerSecond)),
      epochs: result.history.map((r) => ({
        epoch: r.epoch,
        trainTop1: r.train.top1,
        valTop1: r.val?.top1,
        trainLoss: r.train.loss,
        valLoss: r.val?.loss,
        seconds: trainSeconds(r),
      })),
      bestValTop1: result.best?.top1,
    };
    print(
      JSON.stringify({
        model,
        params,
        flops,
        seconds_per_epoch: row.secondsPerEpoch,
        best_val_top1: row.bestValTop1,
      }),
    );
    rows.push(row);
    // Saved after every model: a later failure keeps the models already trained.
    table = await saveCompare(dir, flags, machine, rows);
  }
  print(table);
  print(`results: ${dir}`);
  return { rows, dir };
}

/** Writes compare.json, compare.md and the charts for the rows so far; returns the table. */
async function saveCompare(
  dir: string,
  flags: CompareFlags,
  machine: Record<string, string | number> | undefined,
  rows: CompareRow[],
): Promise<string> {
  const table = markdownTable(
    ['model', 'params', 'GFLOPs', 's/epoch', 'img/s', 'train top-1', 'val top-1 (last)', 'val top-1 (best)'],
    rows.map((r) => {
      const last = r.epochs.at(-1);
      return [
        r.model,
        r.params.toLocaleString('en-US'),
        fixed(r.flops / 1e9, 3),
        fixed(r.secondsPerEpoch),
        fixed(r.imagesPerSecond),
        pct(last?.trainTop1),
        pct(last?.valTop1),
        pct(r.bestValTop1),
      ];
    }),
  );
  const charts = {
    'accuracy.svg': lineChart(
      rows.map((r) => ({
        name: r.model,
        points: r.epochs
          .filter((e) => e.valTop1 !== undefined)
          .map((e) => [e.epoch, e.valTop1 as number] as [number, number]),
      })),
      { title: 'Validation top-1 per epoch', xLabel: 'epoch', yLabel: 'top-1' },
    ),
    'seconds-vs-params.svg': lineChart(
      rows.map((r) => ({
        name: r.model,
        points: [[r.params / 1e6, r.secondsPerEpoch]] as [number, number][],
      })),
      { title: 'Seconds per epoch vs parameters', xLabel: 'parameters (millions)', yLabel: 's/epoch' },
    ),
    'seconds-vs-flops.svg': lineChart(
      rows.map((r) => ({
        name: r.model,
        points: [[r.flops / 1e9, r.secondsPerEpoch]] as [number, number][],
      })),
      { title: 'Seconds per epoch vs multiply-adds', xLabel: 'GFLOPs per image', yLabel: 's/epoch' },
    ),
  };
  await writeResult(dir, 'compare.json', JSON.stringify({ machine, flags, rows }, null, 2));
  await writeResult(
    dir,
    'compare.md',
    `${table}\n\n![accuracy](accuracy.svg) ![seconds vs params](seconds-vs-params.svg) ![seconds vs FLOPs](seconds-vs-flops.svg)\n\nMachine: ${JSON.stringify(machine)}\n`,
  );
  for (const [name, svg] of Object.entries(charts)) await writeResult(dir, name, svg);
  return table;
}
