// Where one training step's time goes: wall time per step, time inside the native addon, and the
// addon calls grouped by function (and op code for binary/unary/reduce), as JSON lines.
//   node bench/native-profile.mjs [--model resnet20] [--batch 128] [--size 32] [--steps 3] [--infer]
// --infer profiles inference (model.predict) instead of a training step; --folded profiles the
// inference of foldBatchNorm's model (as deployed); --no-fuse builds batch norm and ReLU as two layers.
// Everything not inside the addon is JavaScript: tfjs's engine and tape, tfjs-layers, CPU kernels
// and garbage collection.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '../dist/index.js';
import { foldBatchNorm } from '@resnet-ts/resnet-core';
import { benchSetup } from './setup.mjs';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet20' },
    batch: { type: 'string' },
    size: { type: 'string' },
    steps: { type: 'string', default: '3' },
    infer: { type: 'boolean', default: false },
    folded: { type: 'boolean', default: false },
    'no-fuse': { type: 'boolean', default: false },
  },
});
const steps = Number(opts.steps);

// The addon module object is shared with the backend, so wrapping its functions times every call.
const addon = createRequire(import.meta.url)('../build/Release/onednn.node');
const calls = new Map();
let recording = false;
for (const name of Object.keys(addon)) {
  const original = addon[name];
  addon[name] = (...args) => {
    const start = performance.now();
    const result = original(...args);
    if (recording) {
      const key = ['binary', 'unary', 'reduce'].includes(name) ? `${name}:${args[0]}` : name;
      const entry = calls.get(key) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - start;
      entry.calls += 1;
      calls.set(key, entry);
    }
    return result;
  };
}

tf.env().set('IS_TEST', true);
await tf.setBackend('onednn');
const { model, x, y, batch, size } = benchSetup(opts.model, {
  batch: opts.batch,
  size: opts.size,
  fuse: !opts['no-fuse'],
});
const inferred = opts.folded ? foldBatchNorm(model).model : model;
const step =
  opts.infer || opts.folded
    ? async () => {
        const out = inferred.predict(x, { batchSize: batch });
        out.dataSync();
        out.dispose();
      }
    : () => model.trainOnBatch(x, y);
await step();
await step();
recording = true;
const start = performance.now();
for (let i = 0; i < steps; i++) await step();
const stepMs = (performance.now() - start) / steps;
const nativeMs = [...calls.values()].reduce((sum, e) => sum + e.ms, 0) / steps;
console.log(
  JSON.stringify({
    model: opts.model,
    mode: opts.folded ? 'folded inference' : opts.infer ? 'inference' : 'training',
    batch,
    size,
    step_ms: Math.round(stepMs),
    native_ms: Math.round(nativeMs),
  }),
);
for (const [key, e] of [...calls].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(
    JSON.stringify({
      call: key,
      ms_per_step: Math.round((e.ms / steps) * 10) / 10,
      calls_per_step: e.calls / steps,
    }),
  );
}
