// Renders training reports in headless Chromium and checks the laid-out page. Needs a Chromium
// binary (Debian: `apt-get install chromium`; or set CHROMIUM_BIN): without one the suite is
// skipped with a printed reason, except under CI=true, where a missing browser fails it.
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EpochRecord } from './checkpoint';
import type { MemoryDataset } from './data/dataset';
import { ClassificationMetrics } from './metrics';
import { learningRateCurve, type ReportInput, writeReport } from './report';
import type { Schedule } from './schedule';

function findChromium(): string | undefined {
  const named = process.env.CHROMIUM_BIN ?? process.env.CHROME_BIN;
  if (named) return named;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    for (const dir of dirs) {
      try {
        accessSync(path.join(dir, name), constants.X_OK);
        return path.join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const chromium = findChromium();
const ci = process.env.CI === 'true';
if (!chromium && !ci) {
  console.warn(
    'report.browser.test.ts skipped: no chromium binary found (looked for CHROMIUM_BIN, CHROME_BIN, and chromium, chromium-browser, google-chrome on PATH); install one (Debian: apt-get install chromium) to run it',
  );
}

/** What the page itself measures, after layout (see harness). */
interface Measured {
  sections: string[];
  summary: string[];
  columns: string[];
  rows: string[];
  columnBoxes: { w: number; h: number }[];
  charts: { title: string; w: number; h: number; tickPx: number; yTicks: { text: string; y: number }[] }[];
  details: { open: boolean; summary: string; w: number; h: number; tableVisible: boolean }[];
  visibleEpochs: string[];
  violations: string[];
  resources: string[];
}

/**
 * The report with a measuring script added: the page's CSP gets `script-src 'unsafe-inline'`
 * (the report itself has no scripts), a first script records CSP violations, and a last one writes
 * what it measured into the DOM that --dump-dom prints.
 */
function harness(html: string): string {
  const measure = `<script>
const box = (el) => { const r = el.getBoundingClientRect(); return { w: Math.round(r.width), h: Math.round(r.height), y: r.y }; };
const text = (el) => el.textContent.trim();
const out = {
  sections: [...document.querySelectorAll('body > section')].map((s) => s.id),
  summary: [...document.querySelectorAll('#summary th')].map(text),
  columns: [...document.querySelectorAll('#confusion thead th[scope=col]')].map(text),
  rows: [...document.querySelectorAll('#confusion tbody th[scope=row]')].map(text),
  columnBoxes: [...document.querySelectorAll('#confusion thead th[scope=col]')].map(box),
  charts: [...document.querySelectorAll('#curves svg')].map((svg) => ({
    title: svg.querySelector('title').textContent,
    ...box(svg),
    tickPx: Math.min(...[...svg.querySelectorAll('.y-tick, .x-tick')].map((t) => t.getBoundingClientRect().height)),
    yTicks: [...svg.querySelectorAll('.y-tick')].map((t) => ({ text: text(t), y: t.getBoundingClientRect().y })),
  })),
  details: [...document.querySelectorAll('details')].map((d) => ({
    open: d.open, summary: text(d.querySelector('summary')), ...box(d),
    tableVisible: d.querySelector('table').checkVisibility(),
  })),
  visibleEpochs: [...document.querySelectorAll('#epochs > table tbody tr td:first-child')].map(text),
  violations: window.violations,
  resources: performance.getEntriesByType('resource').map((r) => r.name).filter((n) => !n.startsWith('data:')),
};
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = encodeURIComponent(JSON.stringify(out));
document.body.append(pre);
</script>`;
  return html
    .replace("style-src 'unsafe-inline'", "style-src 'unsafe-inline'; script-src 'unsafe-inline'")
    .replace(
      '<meta charset="utf-8">',
      `<meta charset="utf-8"><script>window.violations = []; document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));</script>`,
    )
    .replace('</body>', `${measure}</body>`);
}

function dumpDom(file: string, profile: string): Promise<string> {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    `--user-data-dir=${profile}`,
    '--window-size=1280,1000',
    '--dump-dom',
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(chromium as string, args, { timeout: 15_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${chromium} failed: ${error.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

async function render(dir: string, name: string, input: ReportInput): Promise<Measured> {
  const file = path.join(dir, `${name}.html`);
  await writeReport(file, input);
  const measuring = path.join(dir, `${name}.measure.html`);
  writeFileSync(measuring, harness(readFileSync(file, 'utf8')));
  const dom = await dumpDom(measuring, path.join(dir, `${name}-profile`));
  const found = /<pre id="measured">([^<]*)<\/pre>/.exec(dom);
  if (!found) throw new Error(`no measurements in the dumped DOM:\n${dom.slice(0, 2000)}`);
  return JSON.parse(decodeURIComponent(found[1] as string)) as Measured;
}

const classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function history(epochs: number, schedule: Schedule, baseLr: number, stepsPerEpoch: number): EpochRecord[] {
  const context = { baseLr, totalSteps: epochs * stepsPerEpoch, stepsPerEpoch };
  return Array.from({ length: epochs }, (_, i) => ({
    type: 'epoch',
    epoch: i + 1,
    step: (i + 1) * stepsPerEpoch,
    lr: learningRateCurve(schedule, context, (i + 1) * stepsPerEpoch, 1e9).at(-1)![1],
    train: { loss: 2.3 / (i + 1), top1: 0.3 + (0.6 * i) / epochs, top5: 0.8, count: 500 },
    val: { loss: 2.4 / (i + 1), top1: 0.25 + (0.6 * i) / epochs, top5: 0.75, count: 50 },
    seconds: 12.5,
    imagesPerSecond: 45,
    dataWaitSeconds: 0.2,
    dataWaitShare: 0.02,
  }));
}

function validation(): NonNullable<ReportInput['validation']> {
  const count = 50;
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes.length);
  const dataset: MemoryDataset = {
    kind: 'memory',
    classes,
    labels,
    source: 'generated',
    height: 8,
    width: 8,
    images: new Uint8Array(count * 8 * 8 * 3).map((_, i) => (i * 13) % 256),
  };
  // Every seventh image is called the next class.
  const predicted = Array.from(labels, (l, i) => (i % 7 === 0 ? (l + 1) % classes.length : l));
  const scores = Float32Array.from(predicted.flatMap((p) => classes.map((_, c) => (c === p ? 3 : 0))));
  const metrics = new ClassificationMetrics(classes.length);
  const predictions = metrics.add(scores, labels, count * 0.8);
  return {
    metrics,
    predictions,
    confidence: Float32Array.from({ length: count }, (_, i) => 0.5 + (i % 5) / 10),
    indices: Int32Array.from(labels.keys()),
    dataset,
  };
}

function run(epochs: number, schedule: Schedule, baseLr: number): ReportInput {
  const stepsPerEpoch = 40;
  const context = { baseLr, totalSteps: epochs * stepsPerEpoch, stepsPerEpoch };
  return {
    config: { model: 'resnet20', data: 'cifar10', epochs, backend: 'auto', schedule },
    classes,
    history: history(epochs, schedule, baseLr, stepsPerEpoch),
    validation: validation(),
    maxImages: 12,
    run: {
      backend: 'onednn',
      params: 272_474,
      trainImages: 500,
      valImages: 50,
      learningRates: learningRateCurve(schedule, context, epochs * stepsPerEpoch),
    },
  };
}

/** Tick labels readable: several, distinct, in one format, and not on top of each other. */
function expectReadableAxis(ticks: { text: string; y: number }[], format: RegExp) {
  expect(ticks.length).toBeGreaterThanOrEqual(3);
  for (const t of ticks) expect(t.text).toMatch(format);
  expect(new Set(ticks.map((t) => t.text)).size).toBe(ticks.length);
  const ys = ticks.map((t) => t.y).sort((a, b) => a - b);
  for (let i = 1; i < ys.length; i++) expect((ys[i] as number) - (ys[i - 1] as number)).toBeGreaterThan(14);
}

(chromium || ci ? describe : describe.skip)('the report in headless Chromium', () => {
  let short: Measured;
  let long: Measured;

  beforeAll(async () => {
    if (!chromium) {
      throw new Error(
        'CI=true but no chromium binary found (CHROMIUM_BIN, CHROME_BIN, chromium, chromium-browser, google-chrome on PATH): install it (Debian: apt-get install chromium)',
      );
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'report-browser-'));
    [short, long] = await Promise.all([
      render(dir, 'short', run(4, { name: 'cosine' }, 0.1)),
      render(dir, 'long', run(30, { name: 'onecycle' }, 4e-4)),
    ]);
  }, 40_000);

  it('opens with the summary; per-class accuracy and the confusion matrix come before the epochs', () => {
    expect(short.sections[0]).toBe('summary');
    const at = (id: string) => short.sections.indexOf(id);
    expect(at('per-class')).toBeGreaterThan(0);
    expect(at('confusion')).toBeGreaterThan(at('per-class'));
    expect(at('epochs')).toBeGreaterThan(at('confusion'));
    expect(short.summary).toEqual([
      'model',
      'data',
      'backend',
      'epochs',
      'best validation top-1',
      'final validation top-1',
      'wall time',
      'images/s',
    ]);
  });

  it('labels the confusion matrix by predicted class (columns) and true class (rows), all visible', () => {
    expect(short.columns).toEqual(classes);
    expect(short.rows).toEqual(classes);
    for (const b of short.columnBoxes) {
      expect(b.w).toBeGreaterThan(8);
      expect(b.h).toBeGreaterThan(30); // 'automobile', set vertically
    }
  });

  it('draws three charts large enough to read, with a learning-rate axis in one format', () => {
    expect(short.charts.map((c) => c.title)).toEqual(['Loss', 'Accuracy', 'Learning rate (per step)']);
    for (const c of short.charts) {
      expect(c.w).toBeGreaterThanOrEqual(520);
      expect(c.h).toBeGreaterThanOrEqual(300);
      expect(c.tickPx).toBeGreaterThanOrEqual(10);
    }
    // Cosine from 0.1: fixed decimals.
    expectReadableAxis(short.charts[2]!.yTicks, /^0\.\d\d$/);
    // One-cycle peaking at 4e-4: scientific notation (and 0).
    expectReadableAxis(long.charts[2]!.yTicks, /^(0|\de-4)$/);
  });

  it('shows a short run’s epochs in full, and folds a long run’s table under its last five epochs', () => {
    expect(short.details).toEqual([]);
    expect(short.visibleEpochs).toEqual(['1', '2', '3', '4']);
    expect(long.visibleEpochs).toEqual(['26', '27', '28', '29', '30']);
    expect(long.details).toHaveLength(1);
    expect(long.details[0]).toMatchObject({ open: false, summary: 'All 30 epochs', tableVisible: false });
    expect(long.details[0]!.h).toBeLessThan(40); // the summary line only
  });

  it('fetches nothing and breaks no content-security rule', () => {
    for (const m of [short, long]) {
      expect(m.resources).toEqual([]);
      expect(m.violations).toEqual([]);
    }
  });
});
