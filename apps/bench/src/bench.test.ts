import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeImage } from '@resnet-ts/augment';
import { linearFit, powerFit } from './fit';
import { markdownTable } from './markdown';
import { createProgram, run } from './program';

async function capture(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('fits and tables', () => {
  it('recovers a line and a power law', () => {
    const line = linearFit([
      [1, 5],
      [2, 7],
      [4, 11],
    ]);
    expect(line.a).toBeCloseTo(3, 10);
    expect(line.b).toBeCloseTo(2, 10);
    expect(line.r2).toBeCloseTo(1, 10);
    const power = powerFit([32, 64, 128].map((x) => [x, 0.5 * x ** 2] as [number, number]));
    expect(power.k).toBeCloseTo(2, 10);
    expect(power.c).toBeCloseTo(0.5, 8);
  });

  it('renders markdown tables', () => {
    expect(markdownTable(['a', 'b'], [[1, 'x']])).toBe('| a | b |\n| --- | --- |\n| 1 | x |');
  });
});

describe('resnet-bench', () => {
  let out: string;
  const savedCacheHome = process.env.XDG_CACHE_HOME;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
    // Decoded datasets go to the test's own directory, not the user's cache.
    process.env.XDG_CACHE_HOME = path.join(out, 'cache');
  });
  afterAll(() => {
    if (savedCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCacheHome;
  });

  it('throughput measures each model in its own process and writes JSON and markdown', async () => {
    const r = await capture([
      'throughput',
      '--models',
      'resnet8',
      '--batch',
      '4',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const line = JSON.parse(r.out.split('\n').find((l) => l.includes('"peer":"resnet-ts"')) as string);
    expect(line).toMatchObject({ model: 'resnet8', batch: 4, size: 32, params: 75_770, shortcut: 'A' });
    expect(line.train_img_s).toBeGreaterThan(0);
    expect(line.peak_rss_mb).toBeGreaterThan(0);
    const [dir] = (await readdir(out)).filter((d) => d.endsWith('throughput'));
    const saved = JSON.parse(readFileSync(path.join(out, dir!, 'throughput.json'), 'utf8'));
    expect(saved.machine.cores).toBeGreaterThan(0);
    expect(readFileSync(path.join(out, dir!, 'throughput.md'), 'utf8')).toContain(
      '| resnet8 | 4 | 32 | 75,770 |',
    );
  });

  it('a failing peer is reported, not fatal; its ratio comes from a working one', async () => {
    // Like Keras's peer: no --shortcut option, projection shortcuts only.
    const peer = `node -e "if (process.argv.includes('--shortcut')) { console.error('error: unrecognized arguments: --shortcut A'); process.exit(2); } console.log(JSON.stringify({peer:'fake', shortcut: 'B', train_img_s: 1, infer_img_s: 2}))" --`;
    const r = await capture([
      'throughput',
      '--models',
      'resnet8',
      '--batch',
      '2',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--peer',
      peer,
      '--peer',
      'false',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /"vs":"fake","round":1,"train_ratio":[\d.]+,"infer_ratio":[\d.]+,"note":"shortcut A here, B in the peer"/,
    );
    expect(r.out).toMatch(/"peer":"false","error":"peer failed on resnet8/);
    expect(r.out).toMatch(/\| fake train \| fake infer \| train ×fake \|/);
  });

  it('compare trains every model on the same data and draws the original project’s charts', async () => {
    const data = path.join(out, 'data');
    for (const [c, name] of ['red', 'green'].entries()) {
      await mkdir(path.join(data, name), { recursive: true });
      for (let n = 0; n < 12; n++) {
        const pixels = new Uint8Array(8 * 8 * 3).map((_, i) => (i % 3 === c ? 200 : 30) + ((i + n) % 20));
        await encodeImage({ data: pixels, width: 8, height: 8, channels: 3 }, 'png').then((png) =>
          import('node:fs/promises').then((fs) => fs.writeFile(path.join(data, name, `${n}.png`), png)),
        );
      }
    }
    const r = await capture([
      'compare',
      '--data',
      data,
      '--models',
      'resnet8,resnet14',
      '--epochs',
      '2',
      '--size',
      '8',
      '--per-class',
      '10',
      '--batch-size',
      '4',
      '--workers',
      '0',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [dir] = (await readdir(out)).filter((d) => d.endsWith('compare'));
    const result = JSON.parse(readFileSync(path.join(out, dir!, 'compare.json'), 'utf8'));
    expect(result.rows.map((row: { model: string }) => row.model)).toEqual(['resnet8', 'resnet14']);
    expect(result.rows[0].epochs).toHaveLength(2);
    expect(result.rows[1].params).toBeGreaterThan(result.rows[0].params);
    for (const chart of ['accuracy.svg', 'seconds-vs-params.svg', 'seconds-vs-flops.svg']) {
      expect(readFileSync(path.join(out, dir!, chart), 'utf8')).toMatch(/^<svg/);
    }
  });

  it('scaling fits the growth of step time', async () => {
    const r = await capture([
      'scaling',
      '--depths',
      '8,14',
      '--batches',
      '2,4',
      '--sizes',
      '16,32',
      '--model',
      'resnet8',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const [dir] = (await readdir(out)).filter((d) => d.endsWith('scaling'));
    const summary = JSON.parse(readFileSync(path.join(out, dir!, 'scaling.json'), 'utf8')).summary;
    expect(Object.keys(summary)).toEqual(['depth', 'batch', 'size']);
    expect(existsSync(path.join(out, dir!, 'step-time-vs-size.svg'))).toBe(true);
  });

  it('--shortcut B measures the projection-shortcut CIFAR ResNet', async () => {
    const r = await capture([
      'throughput',
      '--models',
      'resnet8',
      '--shortcut',
      'B',
      '--batch',
      '2',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--out',
      out,
    ]);
    const line = JSON.parse(r.out.split('\n').find((l) => l.includes('"peer":"resnet-ts"')) as string);
    expect(line.shortcut).toBe('B');
    expect(line.params).toBeGreaterThan(75_770);
  });

  it('bad flags exit 2, a bad model exits 1 with one line', async () => {
    expect((await capture(['throughput', '--steps', 'x'])).code).toBe(2);
    const r = await capture(['throughput', '--models', 'vgg', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^resnet-bench: model: expected resnet<depth> or alexnet, got "vgg"/);
    // Every name is checked before anything is measured: a bad last one costs nothing.
    const late = await capture(['throughput', '--models', 'resnet8,resnet21', '--out', `${out}-late`]);
    expect(late.code).toBe(1);
    expect(late.err).toMatch(/^resnet-bench: model: resnet21: depth: /);
    expect(late.out).toBe('');
    expect((await capture(['throughput', '--warmup', '-2'])).code).toBe(2);
  });

  it('--backend cuda is a choice; --precision is checked once, up front', async () => {
    expect(
      createProgram(
        () => {},
        () => {},
      )
        .commands.find((c) => c.name() === 'throughput')
        ?.helpInformation(),
    ).toMatch(/--backend <name>\s+auto\|cuda\|onednn\|tensorflow\|tensorflow-gpu\|cpu/);
    // Where the cuda backend cannot run (or is not built), the one-line error is its own.
    const cuda = await capture([
      'throughput',
      '--backend',
      'cuda',
      '--models',
      'resnet8',
      '--batch',
      '2',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--out',
      out,
    ]);
    if (cuda.code !== 0) {
      expect(cuda.code).toBe(1);
      expect(cuda.err).toMatch(/^resnet-bench: backend cuda: [^\n]+$/);
    }
    expect((await capture(['throughput', '--precision', 'fp16'])).code).toBe(2);
    const tf32 = await capture(['throughput', '--backend', 'cpu', '--precision', 'tf32', '--out', out]);
    expect(tf32.code).toBe(1);
    expect(tf32.err).toMatch(
      /^resnet-bench: precision: tf32 needs --backend cuda \(backend cpu computes in fp32 only/,
    );
    expect(tf32.out).toBe('');
    const scaling = await capture(['scaling', '--backend', 'cpu', '--precision', 'bf16', '--out', out]);
    expect(scaling.code).toBe(1);
    expect(scaling.err).toMatch(/^resnet-bench: precision: bf16 needs --backend cuda/);
  });
});
