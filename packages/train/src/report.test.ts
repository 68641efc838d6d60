import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EpochRecord } from './checkpoint';
import type { MemoryDataset } from './data/dataset';
import { ClassificationMetrics } from './metrics';
import { learningRateCurve, writeReport } from './report';

const classes = ['cat', 'dog', '<eel>'];
const epoch = (n: number, lr: number): EpochRecord => ({
  type: 'epoch',
  epoch: n,
  step: n * 10,
  lr,
  train: { loss: 1 / n, top1: 0.5 + n / 10, top5: 1, count: 60 },
  val: { loss: 1.2 / n, top1: 0.4 + n / 10, top5: 1, count: 6 },
  seconds: 3,
  imagesPerSecond: 20,
  dataWaitSeconds: 0.1,
  dataWaitShare: 0.03,
});

describe('writeReport', () => {
  it('draws loss, accuracy and LR curves, per-class accuracy, the confusion matrix and the mistakes, most confident first', async () => {
    // Six 2×2 validation images; two are wrong: image 1 (a cat called dog, confidence 0.9) and
    // image 4 (an eel called cat, 0.6).
    const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);
    const dataset: MemoryDataset = {
      kind: 'memory',
      classes,
      labels,
      source: 'fixture',
      height: 2,
      width: 2,
      images: new Uint8Array(6 * 2 * 2 * 3).map((_, i) => i * 7),
    };
    const predicted = [0, 1, 1, 1, 0, 2];
    const scores = Float32Array.from(predicted.flatMap((p) => [0, 1, 2].map((c) => (c === p ? 2 : 0))));
    const metrics = new ClassificationMetrics(3);
    const predictions = metrics.add(scores, labels, 3);
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'report-')), 'report.html');
    await writeReport(file, {
      config: { model: 'resnet8', data: 'fixture', epochs: 2 },
      run: { backend: 'cpu', params: 78_000, trainImages: 48, valImages: 6 },
      classes,
      history: [epoch(1, 0.1), epoch(2, 0.01)],
      validation: {
        metrics,
        predictions,
        confidence: Float32Array.from([0.8, 0.9, 0.7, 0.7, 0.6, 0.9]),
        indices: Int32Array.from([0, 1, 2, 3, 4, 5]),
        dataset,
      },
      maxImages: 10,
    });
    const html = readFileSync(file, 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(3);
    for (const title of ['Loss', 'Accuracy', 'Learning rate']) expect(html).toContain(title);
    expect(html).toMatch(
      /<tr><td>cat<\/td><td>2<\/td><td>50\.0%<\/td><\/tr><tr><td>dog<\/td><td>2<\/td><td>100\.0%<\/td><\/tr><tr><td>&lt;eel&gt;<\/td><td>2<\/td><td>50\.0%<\/td><\/tr>/,
    );
    // Column labels (predicted) as well as row labels (true class).
    expect(html).toContain(
      '<th scope="col">cat</th><th scope="col">dog</th><th scope="col">&lt;eel&gt;</th></tr></thead>',
    );
    expect(html).toContain('<th scope="row">dog</th>');
    // Summary first, then curves, per-class accuracy, the matrix, mistakes, epochs, config.
    const order = ['summary', 'curves', 'per-class', 'confusion', 'mistakes', 'epochs', 'config'].map((id) =>
      html.indexOf(`<section id="${id}">`),
    );
    expect(order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] as number)))).toBe(true);
    const summary = html.slice(html.indexOf('<section id="summary">'), html.indexOf('<section id="curves">'));
    expect(summary).toContain('<th scope="row">model</th><td>resnet8 (78,000 parameters)</td>');
    expect(summary).toContain('<th scope="row">backend</th><td>cpu</td>');
    expect(summary).toContain('<th scope="row">epochs</th><td>2 of 2</td>');
    expect(summary).toContain('<th scope="row">best validation top-1</th><td>60.0% (epoch 2)</td>');
    expect(summary).toContain('<th scope="row">final validation top-1</th><td>60.0% (epoch 2)</td>');
    expect(summary).toContain('<th scope="row">wall time</th><td>6.0 s');
    expect(summary).toContain('<th scope="row">images/s</th><td>20 (training)</td>');
    expect(summary).toContain('3 classes, 48 training images, 6 validation images');
    expect(html).not.toContain('<details>');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    const confusion = html.slice(html.indexOf('<table class="confusion">'));
    const cells = [...confusion.slice(0, confusion.indexOf('</table>')).matchAll(/<td[^>]*>(\d+)<\/td>/g)];
    expect(cells.map((m) => Number(m[1]))).toEqual([1, 1, 0, 0, 2, 0, 1, 0, 1]);
    const tiles = [
      ...html.matchAll(
        /<figure><img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt=""><figcaption>(.*?)<\/figcaption>/g,
      ),
    ];
    expect(tiles.map((m) => m[1])).toEqual(['cat → <b>dog</b>', '&lt;eel&gt; → <b>cat</b>']);
    expect(html).not.toContain('<eel>');
  });

  it('folds the epoch table of a long run, keeping the last five epochs in view', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'report-')), 'report.html');
    const history = Array.from({ length: 30 }, (_, i) => epoch(i + 1, 0.1 / (i + 1)));
    await writeReport(file, {
      config: { epochs: 40 },
      classes,
      history,
      maxImages: 0,
      run: { earlyStopped: true },
    });
    const html = readFileSync(file, 'utf8');
    const visible = html.slice(html.indexOf('<section id="epochs">'), html.indexOf('<details>'));
    const folded = html.slice(html.indexOf('<details>'), html.indexOf('</details>'));
    const epochsIn = (part: string) => [...part.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(epochsIn(visible)).toEqual([26, 27, 28, 29, 30]);
    expect(epochsIn(folded)).toEqual(history.map((r) => r.epoch));
    expect(folded).toContain('<summary>All 30 epochs</summary>');
    expect(html).toContain('30 of 40 (stopped early');
    expect(html).toContain('<p>No validation data.</p>');
  });

  it('plots the learning rate per step on a linear axis with labels in one format', async () => {
    const context = { baseLr: 0.1, totalSteps: 300, stepsPerEpoch: 100 };
    const curve = learningRateCurve({ name: 'cosine' }, context, 300);
    expect(curve).toHaveLength(300);
    expect(curve[0]).toEqual([0, 0.1]);
    expect(curve.at(-1)![0]).toBeCloseTo(2.99, 5);
    expect(learningRateCurve({ name: 'constant' }, context, 1000, 50)).toHaveLength(50);
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'report-')), 'report.html');
    await writeReport(file, {
      config: {},
      classes,
      history: [epoch(1, 0.075), epoch(2, 0.025), epoch(3, 0)],
      maxImages: 0,
      run: { learningRates: curve },
    });
    const html = readFileSync(file, 'utf8');
    const lrChart = html.slice(html.indexOf('<title>Learning rate (per step)</title>'));
    const labels = [
      ...lrChart.slice(0, lrChart.indexOf('</svg>')).matchAll(/class="y-tick"[^>]*>([^<]*)</g),
    ].map((m) => m[1]);
    expect(labels).toEqual(['0.00', '0.02', '0.04', '0.06', '0.08', '0.10']);
  });
});
