// Prints the README's depth table (parameters and multiply-adds measured from the built models).
// Run: npm run build && npm run depth-table
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { buildResNet, countFlops, countParams, resolveResNetConfig } from '../dist/index.js';

tf.env().set('IS_TEST', true);

const rows = [
  ...[10, 18, 34, 50, 101, 152, 200].map((depth) => ({ depth, numClasses: 1000 })),
  ...[20, 32, 44, 56, 110, 1202].map((depth) => ({ depth, numClasses: 10 })),
  { depth: 164, numClasses: 10, block: 'bottleneck', preactivation: true },
];
console.log(
  '| model | family | block | blocks per stage | shortcut | input | trainable params | multiply-adds |',
);
console.log('|---|---|---|---|---|---|---:|---:|');
for (const config of rows) {
  const cfg = resolveResNetConfig(config);
  const model = buildResNet(config);
  const params = countParams(model).trainable;
  const flops = countFlops(model);
  model.dispose();
  const name = `ResNet-${cfg.depth}${cfg.preactivation ? ' v2' : ''}`;
  const input = `${cfg.inputShape[0]}x${cfg.inputShape[1]}`;
  const gflops = flops >= 1e9 ? `${(flops / 1e9).toFixed(3)} G` : `${(flops / 1e6).toFixed(1)} M`;
  console.log(
    `| ${name} | ${cfg.family} | ${cfg.block} | ${cfg.stages.map((s) => s.blocks).join('-')} | ${cfg.shortcut} | ${input} | ${params.toLocaleString('en-US')} | ${gflops} |`,
  );
}
