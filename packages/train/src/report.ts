import { decodeImage, encodeImage, type RgbImage, resizeAndCenterCrop } from '@resnet-ts/augment';
import { escapeXml, lineChart } from './chart';
import type { EpochRecord } from './checkpoint';
import type { FreezePoint } from './config';
import type { ImageDataset } from './data/dataset';
import type { EvaluationResult } from './evaluate';
import { writeFileAtomic } from './files';
import { describeStart } from './pretrained';
import { learningRate, type Schedule, type ScheduleContext } from './schedule';

/** What the report's summary names besides the config and the history; the trainer fills it in. */
export interface ReportRun {
  /** The backend the run trained on (the config may say `auto`). */
  backend?: string;
  /** Trainable parameters. */
  params?: number;
  trainImages?: number;
  valImages?: number;
  earlyStopped?: boolean;
  /** The schedule's learning rate over the steps trained, as [epoch (fractional), lr]. */
  learningRates?: [number, number][];
}

export interface ReportInput {
  config: object;
  classes: string[];
  history: EpochRecord[];
  /** The final validation pass, with the samples it covered. */
  validation?: EvaluationResult & { indices: Int32Array; dataset: ImageDataset };
  /** Misclassified validation images to show. */
  maxImages: number;
  run?: ReportRun;
}

/** Runs longer than this many epochs show the last few and fold the full table. */
const FOLD_EPOCHS = 20;
const VISIBLE_EPOCHS = 5;

const pct = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)}%`;

/** `learningRate` sampled at up to `samples` of the first `steps` steps, as [epoch, lr] points. */
export function learningRateCurve(
  schedule: Schedule,
  context: ScheduleContext,
  steps: number,
  samples = 400,
): [number, number][] {
  if (steps <= 0) return [];
  const count = Math.min(steps, samples);
  const out: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const step = count === 1 ? 0 : Math.round((i * (steps - 1)) / (count - 1));
    out.push([step / context.stepsPerEpoch, learningRate(schedule, step, context)]);
  }
  return out;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

const field = (config: object, key: string): string | number | undefined => {
  const value = (config as Record<string, unknown>)[key];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
};

function summaryRows(input: ReportInput): [string, string][] {
  const { config, history, run = {} } = input;
  const rows: [string, string][] = [];
  const model = field(config, 'model');
  const params = run.params === undefined ? '' : ` (${run.params.toLocaleString('en-US')} parameters)`;
  rows.push(['model', `${escapeXml(String(model ?? '–'))}${params}`]);
  const pretrained = field(config, 'pretrained');
  const freeze = field(config, 'freeze');
  const start = describeStart({
    pretrained:
      pretrained === undefined
        ? undefined
        : {
            dir: String(pretrained),
            model: String(model ?? '–'),
            sha256: field(config, 'pretrainedSha256') as string | undefined,
          },
    frozen: freeze === undefined ? undefined : { through: freeze as FreezePoint },
    headLrMult: Number(field(config, 'headLrMult') ?? 1),
  });
  if (start) rows.push(['start', escapeXml(start)]);
  const data = field(config, 'data');
  const valData = field(config, 'valData');
  const counts = [
    `${input.classes.length} classes`,
    ...(run.trainImages === undefined ? [] : [`${run.trainImages} training images`]),
    ...(run.valImages === undefined ? [] : [`${run.valImages} validation images`]),
  ].join(', ');
  rows.push([
    'data',
    `<code>${escapeXml(String(data ?? '–'))}</code>${valData === undefined ? '' : `, validation <code>${escapeXml(String(valData))}</code>`}: ${counts}`,
  ]);
  rows.push(['backend', escapeXml(String(run.backend ?? field(config, 'backend') ?? '–'))]);
  const planned = field(config, 'epochs');
  rows.push([
    'epochs',
    `${history.length}${planned === undefined ? '' : ` of ${planned}`}${run.earlyStopped ? ' (stopped early: validation top-1 stopped improving)' : ''}`,
  ]);
  const validated = history.filter((r) => r.val);
  const best = validated.reduce<EpochRecord | undefined>(
    (b, r) => (!b || (r.val?.top1 as number) > (b.val?.top1 as number) ? r : b),
    undefined,
  );
  rows.push(['best validation top-1', best ? `${pct(best.val?.top1)} (epoch ${best.epoch})` : '–']);
  const last = history.at(-1);
  rows.push(['final validation top-1', last?.val ? `${pct(last.val.top1)} (epoch ${last.epoch})` : '–']);
  const seconds = history.reduce((s, r) => s + r.seconds, 0);
  rows.push(['wall time', `${duration(seconds)} (training and validation, all epochs)`]);
  const images = history.reduce((s, r) => s + r.train.count, 0);
  const trainSeconds = history.reduce(
    (s, r) => s + (r.imagesPerSecond > 0 ? r.train.count / r.imagesPerSecond : 0),
    0,
  );
  rows.push(['images/s', trainSeconds > 0 ? `${(images / trainSeconds).toFixed(0)} (training)` : '–']);
  return rows;
}

function epochTable(records: EpochRecord[]): string {
  const rows = records
    .map(
      (r) =>
        `<tr><td>${r.epoch}</td><td>${r.train.loss.toFixed(4)}</td><td>${pct(r.train.top1)}</td><td>${r.val ? r.val.loss.toFixed(4) : '–'}</td><td>${pct(r.val?.top1)}</td><td>${pct(r.val?.top5)}</td><td>${r.lr >= 1e-3 || r.lr === 0 ? r.lr.toPrecision(3) : r.lr.toExponential(2)}</td><td>${r.seconds.toFixed(1)}</td><td>${r.imagesPerSecond.toFixed(0)}</td><td>${pct(r.dataWaitShare)}</td></tr>`,
    )
    .join('\n');
  return `<table class="epochs"><thead><tr><th>epoch</th><th>train loss</th><th>train top-1</th><th>val loss</th><th>val top-1</th><th>val top-5</th><th>lr</th><th>seconds</th><th>img/s</th><th>data wait</th></tr></thead><tbody>${rows}</tbody></table>`;
}

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

/**
 * Writes a self-contained HTML report (no scripts, no fetches: its Content-Security-Policy allows
 * inline styles and data: images only). In order: a summary, the curves, per-class accuracy, the
 * confusion matrix, the most confident mistakes, the per-epoch table and the configuration.
 */
export async function writeReport(file: string, input: ReportInput): Promise<void> {
  const { classes, history, validation, run = {} } = input;
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
      { title: 'Loss', xLabel: 'epoch', yLabel: 'cross-entropy', xIntegers: true },
    ),
    lineChart(
      [
        { name: 'train top-1', points: epochs((r) => r.train.top1) },
        { name: 'val top-1', points: epochs((r) => r.val?.top1) },
        { name: 'val top-5', points: epochs((r) => r.val?.top5) },
      ],
      { title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy', xIntegers: true },
    ),
    // A linear axis: cosine and one-cycle schedules keep their familiar shapes (and cosine's
    // final 0 stays on the chart), and the tick labels share one format.
    run.learningRates && run.learningRates.length > 1
      ? lineChart([{ name: 'learning rate', points: run.learningRates }], {
          title: 'Learning rate (per step)',
          xLabel: 'epoch',
          yLabel: 'learning rate',
          yFromZero: true,
        })
      : lineChart([{ name: 'learning rate', points: epochs((r) => r.lr) }], {
          title: 'Learning rate (end of epoch)',
          xLabel: 'epoch',
          yLabel: 'learning rate',
          yFromZero: true,
          xIntegers: true,
        }),
  ];
  let validationHtml = '<p>No validation data.</p>';
  if (validation) {
    const { metrics } = validation;
    const matrix = metrics.matrix();
    const perClass = metrics.perClassAccuracy();
    const vertical = classes.length > 6 ? ' class="vertical"' : '';
    const confusion =
      classes.length <= 100
        ? `<table class="confusion"><caption>rows: true class; columns: predicted class</caption><thead><tr><th>true \\ predicted</th>${classes.map((c) => `<th scope="col"${vertical}>${escapeXml(c)}</th>`).join('')}</tr></thead><tbody>${matrix
            .map((row, t) => {
              const total = row.reduce((a, b) => a + b, 0) || 1;
              return `<tr><th scope="row">${escapeXml(classes[t] as string)}</th>${row
                .map(
                  (v, p) =>
                    `<td style="background: rgba(${p === t ? '44,160,44' : '214,39,40'}, ${(v / total).toFixed(3)})">${v}</td>`,
                )
                .join('')}</tr>`;
            })
            .join('\n')}</tbody></table>`
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
    validationHtml = `<section id="per-class"><h2>Per-class accuracy</h2>
<p>${summary.count} validation images (the final model): top-1 ${pct(summary.top1)}, top-5 ${pct(summary.top5)}, loss ${summary.loss.toFixed(4)}.</p>
<table class="per-class"><thead><tr><th>class</th><th>images</th><th>accuracy</th></tr></thead><tbody>${classes.map((c, i) => `<tr><td>${escapeXml(c)}</td><td>${(matrix[i] ?? []).reduce((a, b) => a + b, 0)}</td><td>${pct(perClass[i])}</td></tr>`).join('')}</tbody></table></section>
<section id="confusion"><h2>Confusion matrix</h2>${confusion}</section>
<section id="mistakes"><h2>Misclassified validation images (most confident first)</h2><div class="grid">${tiles.join('\n')}</div></section>`;
  }
  // A long run's table would push everything below it off the page, and its curves tell the
  // story: show the last few epochs and fold the full table (closed) under them.
  const epochsHtml =
    history.length > FOLD_EPOCHS
      ? `<p>Last ${VISIBLE_EPOCHS} of ${history.length} epochs:</p>${epochTable(history.slice(-VISIBLE_EPOCHS))}
<details><summary>All ${history.length} epochs</summary>${epochTable(history)}</details>`
      : epochTable(history);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>resnet-ts training report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1240px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
caption{caption-side:bottom;font-size:12px;color:#555;text-align:left;padding-top:4px}
.summary th{text-align:left;background:#f6f6f6}.summary td{text-align:left}
.confusion td{min-width:2.5em}.confusion th.vertical{writing-mode:vertical-rl;text-align:left;vertical-align:bottom}
.grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;text-align:center;font-size:11px}figure img{width:64px;height:64px;image-rendering:pixelated}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:1em}.charts svg{width:100%;height:auto;max-width:760px}
details summary{cursor:pointer;margin:0.5em 0}pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head>
<body><h1>Training report</h1>
<section id="summary"><h2>Summary</h2>
<table class="summary">${summaryRows(input)
    .map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`)
    .join('\n')}</table></section>
<section id="curves"><h2>Curves</h2><div class="charts">${charts.join('\n')}</div></section>
${validationHtml}
<section id="epochs"><h2>Epochs</h2>
${epochsHtml}</section>
<section id="config"><h2>Configuration</h2><pre>${escapeXml(JSON.stringify(input.config, null, 2))}</pre></section>
</body></html>`;
  await writeFileAtomic(file, html);
}
