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
// Inference "folded" is foldBatchNorm's model (batch norms folded, residual additions and their
// ReLUs fused into the convolutions), as a trained model is deployed; --no-fuse-residuals folds
// the batch norms only. infer_b1_ms is its latency at batch 1 (median of --b1-steps calls, one
// image each); with --peer the peer is run a second time with --batch 1 for its own.
// --no-train skips the training measurement (inference-only comparisons, e.g. onnxruntime).
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
    'no-train': { type: 'boolean', default: false },
    'no-fuse-residuals': { type: 'boolean', default: false },
    'b1-steps': { type: 'string', default: '30' },
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
  const folded = foldBatchNorm(model, { fuse: !opts['no-fuse-residuals'] }).model;
  const inferStep =
    (m, input = x) =>
    () => {
      const out = m.predict(input, { batchSize: input.shape[0] });
      out.dataSync();
      out.dispose();
    };
  const x1 = tf.slice(x, 0, 1);
  const b1Steps = Number(opts['b1-steps']);
  const ratios = [];
  const layouts = opts['conv-layouts'].split(',');
  const byLayout = new Map(layouts.map((l) => [l, []]));
  for (let round = 0; round < Number(opts.rounds); round++) {
    for (const layout of layouts) {
      setConvLayout(layout);
      const train = opts['no-train'] ? null : batch / (await timeSteps(trainStep, warmup, steps));
      const infer = batch / (await timeSteps(inferStep(model), warmup, steps));
      const inferFolded = batch / (await timeSteps(inferStep(folded), warmup, steps));
      const inferB1Ms = b1Steps > 0 ? (await timeSteps(inferStep(folded, x1), warmup, b1Steps)) * 1000 : null;
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
        train_img_s: train === null ? null : Math.round(train * 100) / 100,
        infer_img_s: Math.round(infer * 100) / 100,
        infer_folded_img_s: Math.round(inferFolded * 100) / 100,
        infer_b1_ms: inferB1Ms === null ? null : Math.round(inferB1Ms * 1000) / 1000,
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
        const peerRun = (b, n) => {
          const command = `${opts.peer} --model ${name} --batch ${b} --size ${size} --shortcut ${result.shortcut} --threads ${result.threads} --steps ${n} --warmup ${warmup}`;
          const line = execSync(command, { encoding: 'utf8' }).trim().split('\n').pop();
          return JSON.parse(line);
        };
        const peer = peerRun(batch, steps);
        console.log(JSON.stringify(peer));
        let peerB1Ms = null;
        if (inferB1Ms !== null) {
          const peer1 = peerRun(1, b1Steps);
          peerB1Ms = Math.round((1000 / peer1.infer_img_s) * 1000) / 1000;
          console.log(JSON.stringify({ ...peer1, infer_b1_ms: peerB1Ms }));
        }
        // A ratio of null when either side has no figure (onnxruntime does not train).
        const ratio = (a, b) => (a == null || b == null ? null : Math.round((a / b) * 100) / 100);
        const line2 = {
          model: name,
          vs: peer.peer,
          round: round + 1,
          train_ratio: ratio(result.train_img_s, peer.train_img_s),
          infer_ratio: ratio(result.infer_img_s, peer.infer_img_s),
          infer_folded_ratio: ratio(result.infer_folded_img_s, peer.infer_img_s),
          infer_b1_ms: result.infer_b1_ms,
          peer_infer_b1_ms: peerB1Ms,
          // Peer latency over ours: above 1 means ours answers one image sooner.
          b1_latency_ratio: ratio(peerB1Ms, result.infer_b1_ms),
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
    const pick = (key) => ratios.map((r) => r[key]).filter((v) => v !== null);
    const summary = { model: name, vs: 'median of rounds', rounds: ratios.length };
    for (const key of [
      'train_ratio',
      'infer_ratio',
      'infer_folded_ratio',
      'b1_latency_ratio',
      'infer_b1_ms',
      'peer_infer_b1_ms',
    ]) {
      const values = pick(key);
      summary[key] = values.length > 0 ? round2(median(values)) : null;
      if (key.endsWith('ratio')) {
        summary[`${key}_range`] = values.length > 0 ? [Math.min(...values), Math.max(...values)] : null;
      }
    }
    console.log(JSON.stringify(summary));
  }
  tf.dispose([x, y, x1]);
  model.dispose();
  folded.dispose();
}
