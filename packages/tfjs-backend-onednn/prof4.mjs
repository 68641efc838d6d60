import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { buildResNet } from '@resnet-ts/resnet-core';
import './dist/index.js';

const addon = createRequire(import.meta.url)('./build/Release/onednn.node');
const stats = new Map();
let on = false;
for (const name of Object.keys(addon)) {
  const f = addon[name];
  addon[name] = (...args) => {
    const t = performance.now();
    const r = f(...args);
    if (on) {
      const key =
        name +
        (name === 'binary' || name === 'unary' || name === 'reduce'
          ? ':' + args[0] + ' ' + (args[2]?.length ?? '')
          : '');
      const e = stats.get(key) ?? [0, 0];
      e[0] += performance.now() - t;
      e[1]++;
      stats.set(key, e);
    }
    return r;
  };
}
tf.env().set('IS_TEST', true);
await tf.setBackend('onednn');
const model = buildResNet({ depth: 20, numClasses: 10, seed: 1 });
model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([128, 32, 32, 3]);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 128 }, (_, i) => i % 10),
    'int32',
  ),
  10,
);
for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
on = true;
const t0 = performance.now();
for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
const total = (performance.now() - t0) / 3;
let nat = 0;
for (const [, [ms]] of stats) nat += ms / 3;
console.log('step', total.toFixed(0), 'native', nat.toFixed(0));
[...stats]
  .sort((a, b) => b[1][0] - a[1][0])
  .slice(0, 16)
  .forEach(([k, [ms, n]]) => console.log((ms / 3).toFixed(1), (n / 3).toFixed(0), k));
