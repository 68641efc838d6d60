import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EpochRecord } from './checkpoint';
import type { MemoryDataset } from './data/dataset';
import { ClassificationMetrics } from './metrics';
import { writeReport } from './report';

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
      config: { model: 'resnet8' },
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
      /<tr><td>cat<\/td><td>50\.0%<\/td><\/tr><tr><td>dog<\/td><td>100\.0%<\/td><\/tr><tr><td>&lt;eel&gt;<\/td><td>50\.0%<\/td><\/tr>/,
    );
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
});
