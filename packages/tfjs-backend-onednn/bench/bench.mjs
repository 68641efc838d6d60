// Training and inference throughput of ResNets on a tfjs backend, one JSON line per model with the
// fields of ../shared/peers/pytorch_bench.py, so the two can be joined into ratios.
//   npm run bench -- [--backend onednn|cpu] [--models resnet20,resnet50] [--steps 6] [--warmup 2]
//                    [--batch N] [--size N] [--threads N] [--profile] [--peer "<command>"] [--no-fuse]
// Models are built with fuseBatchNormRelu (one kernel per batch norm + ReLU); --no-fuse builds the
// two-layer graph.
// --profile adds a per-kernel time breakdown of one training step (the "kernels" field).
// --peer runs a peer benchmark (e.g. "python3 ../../../shared/peers/pytorch_bench.py") on the same
// model, batch, size and steps right after ours, prints its line and a line of our/peer ratios.
// --rounds N alternates ours and the peer N times and ends with the median ratios (throughput on a
// shared 2-core machine varies from run to run, the peer's as much as ours).
// --conv-layouts timed,plain,blocked measures ours once per convolution layout policy in every
// round (setConvLayout) and ends with each policy's median images/s and its ratio to the first.
import { execSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { countParams, foldBatchNorm } from '@resnet-ts/resnet-core';
import { getThreads, setConvLayout, setThreads } from '../dist/index.js';
import { benchSetup } from './setup.mjs';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'onednn' },
    models: { type: 'string', default: 'resnet20,resnet50' },
    steps: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string' },
    size: { type: 'string' },
    threads: { type: 'string' },
    profile: { type: 'boolean', default: false },
    peer: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    'no-fuse': { type: 'boolean', default: false },
    'conv-layouts': { type: 'string', default: 'timed' },
  },
});

tf.env().set('IS_TEST', true); // no "install tfjs-node" banner from the cpu backend
if (!(await tf.setBackend(opts.backend))) throw new Error(`backend ${opts.backend} is unavailable`);
if (opts.threads) setThreads(Number(opts.threads));

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[Math.floor(mid)];
};

const round2 = (v) => Math.round(v * 100) / 100;

async function timeSteps(step, warmup, steps) {
  const times = [];
  for (let i = 0; i < warmup + steps; i++) {
    const start = performance.now();
    await step();
    if (i >= warmup) times.push((performance.now() - start) / 1000);
  }
  return median(times);
}

for (const name of opts.models.split(',')) {
  const { model, x, y, cifar, size, batch, classes } = benchSetup(name, {
    batch: opts.batch,
    size: opts.size,
    fuse: !opts['no-fuse'],
  });
  const steps = Number(opts.steps);
  const warmup = Number(opts.warmup);

  const trainStep = () => model.trainOnBatch(x, y);
  // Inference as deployed: batch norms folded into the convolutions (same predictions).
  const folded = foldBatchNorm(model).model;
  const inferStep = (m) => () => {
    const out = m.predict(x, { batchSize: batch });
    out.dataSync();
    out.dispose();
  };
  const ratios = [];
  const layouts = opts['conv-layouts'].split(',');
  const byLayout = new Map(layouts.map((l) => [l, []]));
  for (let round = 0; round < Number(opts.rounds); round++) {
    for (const layout of layouts) {
      setConvLayout(layout);
      const train = batch / (await timeSteps(trainStep, warmup, steps));
      const infer = batch / (await timeSteps(inferStep(model), warmup, steps));
      const inferFolded = batch / (await timeSteps(inferStep(folded), warmup, steps));
      const result = {
        peer: 'resnet-ts',
        backend: opts.backend,
        model: name,
        shortcut: cifar ? 'A' : 'B',
        batch,
        size,
        classes,
        threads: getThreads() ?? 1,
        conv_layout: layout,
        params: countParams(model).trainable,
        train_img_s: Math.round(train * 100) / 100,
        infer_img_s: Math.round(infer * 100) / 100,
        infer_folded_img_s: Math.round(inferFolded * 100) / 100,
      };
      if (opts.profile) {
        const profile = await tf.profile(trainStep);
        const byKernel = new Map();
        // Entries named `<op>__op` time an op around its kernel: skip them so nothing counts twice.
        for (const k of profile.kernels) {
          if (!k.name.endsWith('__op')) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + k.kernelTimeMs);
        }
        const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
        result.kernels = Object.fromEntries(
          [...byKernel]
            .sort((a, b) => b[1] - a[1])
            .map(([k, ms]) => [
              k,
              { ms: Math.round(ms * 10) / 10, share: Math.round((ms / total) * 1000) / 1000 },
            ]),
        );
      }
      console.log(JSON.stringify(result));
      byLayout.get(layout).push(result);
      if (opts.peer && layout === layouts[0]) {
        const command = `${opts.peer} --model ${name} --batch ${batch} --size ${size} --shortcut ${result.shortcut} --threads ${result.threads} --steps ${steps} --warmup ${warmup}`;
        const line = execSync(command, { encoding: 'utf8' }).trim().split('\n').pop();
        const peer = JSON.parse(line);
        console.log(JSON.stringify(peer));
        const ratio = (a, b) => Math.round((a / b) * 100) / 100;
        const line2 = {
          model: name,
          vs: peer.peer,
          round: round + 1,
          train_ratio: ratio(result.train_img_s, peer.train_img_s),
          infer_ratio: ratio(result.infer_img_s, peer.infer_img_s),
          infer_folded_ratio: ratio(result.infer_folded_img_s, peer.infer_img_s),
        };
        ratios.push(line2);
        console.log(JSON.stringify(line2));
      }
    }
  }
  if (layouts.length > 1) {
    const medianOf = (layout, key) => median(byLayout.get(layout).map((r) => r[key]));
    const [first] = layouts;
    console.log(
      JSON.stringify({
        model: name,
        vs: 'conv layouts, median of rounds',
        rounds: Number(opts.rounds),
        ...Object.fromEntries(
          layouts.map((l) => [
            l,
            {
              train_img_s: round2(medianOf(l, 'train_img_s')),
              infer_img_s: round2(medianOf(l, 'infer_img_s')),
              train_ratio: round2(medianOf(l, 'train_img_s') / medianOf(first, 'train_img_s')),
            },
          ]),
        ),
      }),
    );
  }
  if (ratios.length > 1) {
    const pick = (key) => ratios.map((r) => r[key]);
    console.log(
      JSON.stringify({
        model: name,
        vs: 'median of rounds',
        rounds: ratios.length,
        train_ratio: round2(median(pick('train_ratio'))),
        infer_ratio: round2(median(pick('infer_ratio'))),
        infer_folded_ratio: round2(median(pick('infer_folded_ratio'))),
        train_ratio_range: [Math.min(...pick('train_ratio')), Math.max(...pick('train_ratio'))],
        infer_ratio_range: [Math.min(...pick('infer_ratio')), Math.max(...pick('infer_ratio'))],
        infer_folded_ratio_range: [
          Math.min(...pick('infer_folded_ratio')),
          Math.max(...pick('infer_folded_ratio')),
        ],
      }),
    );
  }
  tf.dispose([x, y]);
  model.dispose();
  folded.dispose();
}
