import { decodeImage, encodeImage, type RgbImage, resizeAndCenterCrop } from '@resnet-ts/augment';
import { escapeXml, lineChart } from './chart';
import type { EpochRecord } from './checkpoint';
import type { ImageDataset } from './data/dataset';
import type { EvaluationResult } from './evaluate';
import { writeFileAtomic } from './files';

export interface ReportInput {
  config: object;
  classes: string[];
  history: EpochRecord[];
  /** The final validation pass, with the samples it covered. */
  validation?: EvaluationResult & { indices: Int32Array; dataset: ImageDataset };
  /** Misclassified validation images to show. */
  maxImages: number;
}

const pct = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)}%`;

async function thumbnail(dataset: ImageDataset, index: number): Promise<string> {
  let image: RgbImage;
  if (dataset.kind === 'memory') {
    const size = dataset.height * dataset.width * 3;
    image = {
      data: dataset.images.slice(index * size, (index + 1) * size),
      height: dataset.height,
      width: dataset.width,
      channels: 3,
    };
  } else {
    image = await resizeAndCenterCrop(await decodeImage(dataset.files[index] as string), 96, 96);
  }
  return `data:image/png;base64,${(await encodeImage(image, 'png')).toString('base64')}`;
}

/** Writes a self-contained HTML report: curves, confusion matrix, per-class accuracy, mistakes. */
export async function writeReport(file: string, input: ReportInput): Promise<void> {
  const { classes, history, validation } = input;
  const epochs = (pick: (r: EpochRecord) => number | undefined) =>
    history
      .map((r) => [r.epoch, pick(r)] as [number, number | undefined])
      .filter((p): p is [number, number] => p[1] !== undefined);
  const charts = [
    lineChart(
      [
        { name: 'train', points: epochs((r) => r.train.loss) },
        { name: 'validation', points: epochs((r) => r.val?.loss) },
      ],
      { title: 'Loss', xLabel: 'epoch', yLabel: 'cross-entropy' },
    ),
    lineChart(
      [
        { name: 'train top-1', points: epochs((r) => r.train.top1) },
        { name: 'val top-1', points: epochs((r) => r.val?.top1) },
        { name: 'val top-5', points: epochs((r) => r.val?.top5) },
      ],
      { title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy' },
    ),
    lineChart([{ name: 'learning rate', points: epochs((r) => r.lr) }], {
      title: 'Learning rate (end of epoch)',
      xLabel: 'epoch',
      yLabel: 'lr',
      logY: true,
    }),
  ];
  const rows = history
    .map(
      (r) =>
        `<tr><td>${r.epoch}</td><td>${r.train.loss.toFixed(4)}</td><td>${pct(r.train.top1)}</td><td>${r.val ? r.val.loss.toFixed(4) : '–'}</td><td>${pct(r.val?.top1)}</td><td>${pct(r.val?.top5)}</td><td>${r.lr.toPrecision(3)}</td><td>${r.seconds.toFixed(1)}</td><td>${r.imagesPerSecond.toFixed(0)}</td><td>${pct(r.dataWaitShare)}</td></tr>`,
    )
    .join('\n');
  let validationHtml = '<p>No validation data.</p>';
  if (validation) {
    const { metrics } = validation;
    const matrix = metrics.matrix();
    const perClass = metrics.perClassAccuracy();
    const confusion =
      classes.length <= 100
        ? `<table class="confusion"><tr><th>truth \\ predicted</th>${classes.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr>${matrix
            .map((row, t) => {
              const total = row.reduce((a, b) => a + b, 0) || 1;
              return `<tr><th>${escapeXml(classes[t] as string)}</th>${row
                .map(
                  (v, p) =>
                    `<td style="background: rgba(${p === t ? '44,160,44' : '214,39,40'}, ${(v / total).toFixed(3)})">${v}</td>`,
                )
                .join('')}</tr>`;
            })
            .join('\n')}</table>`
        : '<p>(More than 100 classes: see the JSON of <code>resnet eval --json</code>.)</p>';
    const wrong = Array.from(validation.indices.keys())
      .filter((k) => validation.predictions[k] !== validation.dataset.labels[validation.indices[k] as number])
      .sort((a, b) => (validation.confidence[b] as number) - (validation.confidence[a] as number))
      .slice(0, input.maxImages);
    const tiles = await Promise.all(
      wrong.map(async (k) => {
        const index = validation.indices[k] as number;
        const truth = classes[validation.dataset.labels[index] as number] as string;
        const predicted = classes[validation.predictions[k] as number] as string;
        return `<figure><img src="${await thumbnail(validation.dataset, index)}" alt=""><figcaption>${escapeXml(truth)} → <b>${escapeXml(predicted)}</b></figcaption></figure>`;
      }),
    );
    const summary = metrics.summary();
    validationHtml = `<p>${summary.count} validation images: top-1 ${pct(summary.top1)}, top-5 ${pct(summary.top5)}, loss ${summary.loss.toFixed(4)}.</p>
<h2>Per-class accuracy</h2>
<table><tr><th>class</th><th>accuracy</th></tr>${classes.map((c, i) => `<tr><td>${escapeXml(c)}</td><td>${pct(perClass[i])}</td></tr>`).join('')}</table>
<h2>Confusion matrix</h2>${confusion}
<h2>Misclassified validation images (most confident first)</h2><div class="grid">${tiles.join('\n')}</div>`;
  }
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>resnet-ts training report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
.confusion td{min-width:2.5em}.grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;text-align:center;font-size:11px}figure img{width:64px;height:64px;image-rendering:pixelated}
.charts{display:flex;flex-wrap:wrap;gap:1em}pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head>
<body><h1>Training report</h1>
<div class="charts">${charts.join('\n')}</div>
<h2>Epochs</h2>
<table><tr><th>epoch</th><th>train loss</th><th>train top-1</th><th>val loss</th><th>val top-1</th><th>val top-5</th><th>lr</th><th>seconds</th><th>img/s</th><th>data wait</th></tr>${rows}</table>
${validationHtml}
<h2>Configuration</h2><pre>${escapeXml(JSON.stringify(input.config, null, 2))}</pre>
</body></html>`;
  await writeFileAtomic(file, html);
}
