import { type BackendChoice, configureBackend, useBackend } from '@resnet-ts/backends';
import { resnetName } from '@resnet-ts/resnet-core';
import { describeMachine, lineChart, type Precision, type ThroughputResult } from '@resnet-ts/train';
import { linearFit, powerFit } from '../fit';
import { fixed, markdownTable } from '../markdown';
import { measureIsolated } from '../measure';
import { resultsDir, writeResult } from '../results';

export interface ScalingFlags {
  depths: string;
  batches: string;
  sizes: string;
  model: string;
  steps: number;
  warmup: number;
  backend: string;
  precision: Precision;
  out: string;
}

const list = (text: string) =>
  text
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);

/** How the cost of a training step grows with depth, batch size and image size, with fits. */
export async function runScaling(flags: ScalingFlags, print: (line: string) => void) {
  const { backend } = await useBackend(flags.backend as BackendChoice);
  await configureBackend({ precision: flags.precision });
  const machine = await describeMachine();
  const measure = async (model: string, batch: number, size: number) => {
    const r = await measureIsolated({
      model,
      batch,
      size,
      steps: flags.steps,
      warmup: flags.warmup,
      backend: flags.backend,
      precision: flags.precision,
    });
    print(JSON.stringify(r));
    return r;
  };
  const sweeps: { name: string; x: string; results: { x: number; r: ThroughputResult }[] }[] = [
    { name: 'depth', x: 'depth (CIFAR ResNet, batch 128, 32×32)', results: [] },
    { name: 'batch', x: `batch size (${flags.model}, 32×32)`, results: [] },
    { name: 'size', x: `image side in pixels (${flags.model}, batch 32)`, results: [] },
  ];
  for (const depth of list(flags.depths))
    sweeps[0]?.results.push({ x: depth, r: await measure(resnetName(depth), 128, 32) });
  for (const batch of list(flags.batches))
    sweeps[1]?.results.push({ x: batch, r: await measure(flags.model, batch, 32) });
  for (const size of list(flags.sizes))
    sweeps[2]?.results.push({ x: size, r: await measure(flags.model, 32, size) });

  const dir = await resultsDir(flags.out, 'scaling');
  const summary: Record<string, unknown> = {};
  const sections: string[] = [];
  for (const sweep of sweeps) {
    if (sweep.results.length === 0) continue;
    const points = sweep.results.map(({ x, r }) => [x, r.train_step_s] as [number, number]);
    // Depth and batch grow time linearly; image size as a power (≈2 for convolutions).
    const fit = sweep.name === 'size' ? powerFit(points) : linearFit(points);
    const fitted =
      sweep.name === 'size'
        ? (x: number) => (fit as ReturnType<typeof powerFit>).c * x ** (fit as ReturnType<typeof powerFit>).k
        : (x: number) =>
            (fit as ReturnType<typeof linearFit>).a + (fit as ReturnType<typeof linearFit>).b * x;
    const label =
      sweep.name === 'size'
        ? `fit: ${((fit as ReturnType<typeof powerFit>).c * 1e3).toPrecision(3)} ms · x^${(fit as ReturnType<typeof powerFit>).k.toFixed(2)}`
        : `fit: ${((fit as ReturnType<typeof linearFit>).a * 1e3).toFixed(1)} ms + ${((fit as ReturnType<typeof linearFit>).b * 1e3).toFixed(2)} ms · x`;
    summary[sweep.name] = { fit, points };
    const xs = points.map(([x]) => x);
    const curve: [number, number][] = Array.from({ length: 30 }, (_, i) => {
      const x = Math.min(...xs) + ((Math.max(...xs) - Math.min(...xs)) * i) / 29;
      return [x, fitted(x)];
    });
    await writeResult(
      dir,
      `step-time-vs-${sweep.name}.svg`,
      lineChart(
        [
          { name: 'measured', points },
          { name: `${label} (R² ${fit.r2.toFixed(3)})`, points: curve },
        ],
        {
          title: `Training step time vs ${sweep.name} (${backend}${flags.precision === 'fp32' ? '' : ` ${flags.precision}`})`,
          xLabel: sweep.x,
          yLabel: 'seconds per step',
          width: 560,
        },
      ),
    );
    sections.push(
      `### ${sweep.x}\n\n${markdownTable(
        [sweep.name, 'train step s', 'train img/s', 'infer img/s', 'GFLOPs/img'],
        sweep.results.map(({ x, r }) => [
          x,
          fixed(r.train_step_s, 4),
          fixed(r.train_img_s),
          fixed(r.infer_img_s),
          fixed(r.flops / 1e9, 3),
        ]),
      )}\n\n${label}, R² ${fit.r2.toFixed(3)}\n\n![](step-time-vs-${sweep.name}.svg)`,
    );
  }
  await writeResult(dir, 'scaling.json', JSON.stringify({ machine, flags, summary }, null, 2));
  await writeResult(dir, 'scaling.md', `${sections.join('\n\n')}\n\nMachine: ${JSON.stringify(machine)}\n`);
  print(sections.join('\n\n'));
  print(`results: ${dir}`);
  return { dir, summary };
}
