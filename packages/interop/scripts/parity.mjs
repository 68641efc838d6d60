// Converts the full-size ResNet-50 files parity.py wrote and compares the logits with the
// framework's: one JSON line per file. Run by parity.sh (needs `npm run build`).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { convertWeights, readSafetensors } from '../dist/index.js';

const dir = process.argv[2];
await tf.setBackend('cpu');
tf.backend().firstUse = false;
const files = [
  ['torchvision', 'torchvision_resnet50.safetensors', 'torchvision_resnet50'],
  ['torchvision', 'torchvision_resnet50.pth', 'torchvision_resnet50'],
  ['keras', 'keras_resnet50.h5', 'keras_resnet50'],
  ['keras', 'keras_resnet50.weights.h5', 'keras_resnet50'],
];
for (const [from, name, io] of files) {
  const bytes = new Uint8Array(await readFile(path.join(dir, name)));
  const tensors = readSafetensors(new Uint8Array(await readFile(path.join(dir, `${io}.io.safetensors`))), io);
  const input = tensors.get('input');
  const logits = tensors.get('logits');
  const start = performance.now();
  const converted = convertWeights(bytes, name, { from, depth: 50, classifierActivation: 'linear' });
  const convertSeconds = (performance.now() - start) / 1000;
  const output = tf.tidy(() => converted.model.predict(tf.tensor(input.values, input.shape)).dataSync());
  let maxAbsDifference = 0;
  let maxAbsLogit = 0;
  for (let i = 0; i < output.length; i++) {
    maxAbsDifference = Math.max(maxAbsDifference, Math.abs(output[i] - logits.values[i]));
    maxAbsLogit = Math.max(maxAbsLogit, Math.abs(logits.values[i]));
  }
  const top1Agrees = [0, 1].every((n) => {
    const row = (a) => Array.from(a.slice(n * 1000, (n + 1) * 1000));
    const argmax = (r) => r.indexOf(Math.max(...r));
    return argmax(row(output)) === argmax(row(logits.values));
  });
  console.log(
    JSON.stringify({
      from,
      file: name,
      format: converted.format,
      parameters: converted.model.countParams(),
      convertSeconds: Number(convertSeconds.toFixed(2)),
      maxAbsDifference,
      maxAbsLogit,
      top1Agrees,
    }),
  );
  converted.model.dispose();
}
