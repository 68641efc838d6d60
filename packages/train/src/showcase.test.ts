import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from './export';

// The run the root README reports is committed (runs/cifar10-resnet20-e120-re): its exported models
// must load with plain TensorFlow.js, without @resnet-ts/resnet-core's custom layers.
const RUN = path.join(__dirname, '..', '..', '..', 'runs', 'cifar10-resnet20-e120-re');
const MODELS = ['model', 'best'] as const;

/** Layer classes that stock tfjs-layers (and Keras) deserialize. */
const STOCK = new Set([
  'InputLayer',
  'Conv2D',
  'BatchNormalization',
  'Activation',
  'Add',
  'ZeroPadding2D',
  'AveragePooling2D',
  'Permute',
  'GlobalAveragePooling2D',
  'Dense',
]);

/** A fixed input, built the same way in the child (`CHILD`): 2 images of 32×32×3 in [-2, 2]. */
function fixedInput(): tf.Tensor {
  return tf.tidy(() =>
    tf.reshape(tf.mul(tf.sin(tf.mul(tf.range(0, 2 * 32 * 32 * 3), 0.37)), 2), [2, 32, 32, 3]),
  );
}

// A separate Node process that imports only the stock tfjs packages, serves the model directory over
// HTTP and loads it with `tf.loadLayersModel(url)`, as a browser would.
const CHILD = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
require('@tensorflow/tfjs-backend-cpu');
const tf = require('@tensorflow/tfjs-core');
const tfl = require('@tensorflow/tfjs-layers');
const dir = process.argv[1];
const server = http.createServer((req, res) => {
  fs.readFile(path.join(dir, path.basename(req.url)), (err, data) => {
    if (err) { res.writeHead(404); res.end(); } else { res.end(data); }
  });
});
server.listen(0, '127.0.0.1', async () => {
  try {
    await tf.setBackend('cpu');
    const custom = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap).filter((n) => n.startsWith('ResNet'));
    const model = await tfl.loadLayersModel('http://127.0.0.1:' + server.address().port + '/model.json');
    const y = model.predict(tf.tidy(() => tf.reshape(tf.mul(tf.sin(tf.mul(tf.range(0, 2 * 32 * 32 * 3), 0.37)), 2), [2, 32, 32, 3])));
    process.stdout.write(JSON.stringify({ custom, shape: model.outputs[0].shape, outShape: y.shape, values: Array.from(y.dataSync()) }));
  } catch (error) {
    process.stderr.write(String(error && error.stack || error));
    process.exitCode = 1;
  } finally {
    server.close();
  }
});
`;

beforeAll(() => tf.setBackend('cpu'));

describe.each(MODELS)('the committed showcase model (%s/)', (sub) => {
  const dir = path.join(RUN, sub);

  it('has stock layer classes only', () => {
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const layers: { class_name: string }[] = json.modelTopology.config.layers;
    expect(layers.map((l) => l.class_name).filter((c) => !STOCK.has(c))).toEqual([]);
  });

  it('loads with plain tf.loadLayersModel in a process without resnet-ts, same outputs as loadModel', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', CHILD, dir], {
      cwd: __dirname,
      maxBuffer: 1 << 20,
    });
    const child = JSON.parse(stdout) as {
      custom: string[];
      shape: unknown[];
      outShape: number[];
      values: number[];
    };
    expect(child.custom).toEqual([]);
    expect(child.shape).toEqual([null, 10]);
    expect(child.outShape).toEqual([2, 10]);

    const bundle = await loadModel(dir);
    expect(bundle.labels).toHaveLength(10);
    const expected = Array.from((bundle.model.predict(fixedInput()) as tf.Tensor).dataSync());
    expect(child.values).toHaveLength(expected.length);
    for (const [i, v] of child.values.entries()) expect(v).toBeCloseTo(expected[i] as number, 5);
    // Probabilities: each row sums to 1.
    for (let row = 0; row < 2; row++) {
      expect(child.values.slice(row * 10, row * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });
});
