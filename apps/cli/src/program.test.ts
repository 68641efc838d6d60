import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { encodeImage } from '@resnet-ts/augment';
import { useBackend } from '@resnet-ts/backends';
import { trainConfigSchema } from '@resnet-ts/train';
import { fieldNames } from './commands/train';
import type { Io } from './io';
import { createProgram, run } from './program';

/**
 * Captures output; `interruptWhen` fires the Ctrl-C handler when stderr shows a matching line.
 * `tty` makes it a terminal: progress bars draw into `screen()`.
 */
function testIo(interruptWhen?: RegExp, tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const screen: string[] = [];
  const terminal = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        screen.push(String(chunk));
        done();
      },
    }),
    { isTTY: true, columns: 160 },
  );
  let handler: (() => void) | undefined;
  let fired = false;
  const io: Io = {
    stdout: (t) => out.push(t),
    stderr: (t) => {
      err.push(t);
      if (interruptWhen && !fired && interruptWhen.test(t)) {
        fired = true;
        handler?.();
      }
    },
    isTTY: tty,
    terminal,
    onInterrupt: (h) => {
      handler = h;
      return () => {
        handler = undefined;
      };
    },
  };
  return { io, out: () => out.join(''), err: () => err.join(''), screen: () => screen.join('') };
}

/** Three classes told apart by colour, 16×16. */
async function writeDataset(root: string, perClass = 20): Promise<void> {
  for (const [c, name] of ['red', 'green', 'blue'].entries()) {
    await mkdir(path.join(root, name), { recursive: true });
    for (let n = 0; n < perClass; n++) {
      const data = new Uint8Array(16 * 16 * 3).map(
        (_, i) => (i % 3 === c ? 150 : 40) + ((i * 31 + n * 17) % 60),
      );
      await writeFile(
        path.join(root, name, `${n}.png`),
        await encodeImage({ data, width: 16, height: 16, channels: 3 }, 'png'),
      );
    }
  }
}

let data: string;
let runDir: string;
let cacheDir: string;
const common = () => [
  '--model',
  'resnet8',
  '--batch-size',
  '16',
  '--lr',
  '0.05',
  '--val-split',
  '0.25',
  '--workers',
  '0',
  '--cache-dir',
  cacheDir,
];

beforeAll(async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'cli-'));
  data = path.join(root, 'data');
  runDir = path.join(root, 'run');
  cacheDir = path.join(root, 'cache');
  await writeDataset(data);
});

describe('resnet train / eval / predict', () => {
  it('trains, saves and reports; eval reproduces the validation accuracy; predict names classes', async () => {
    const train = testIo();
    expect(
      await run(['train', '--data', data, '--epochs', '2', ...common(), '--out', runDir], train.io),
    ).toBe(0);
    expect(train.err()).toMatch(/backend \w+; 3 classes, 45 training \/ 15 validation images/);
    expect(train.err()).toMatch(/class counts: blue 15, green 15, red 15/);
    expect(train.err()).toMatch(/epoch 2\/2: train loss [\d.]+ top-1 [\d.]+% .* img\/s, data wait [\d.]+%/);
    expect(train.out()).toMatch(/final validation: top-1 [\d.]+%/);
    const epochs = (await readFile(path.join(runDir, 'logs', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'epoch');
    expect(epochs).toHaveLength(2);
    expect(epochs[1].val.top1).toBeGreaterThan(0.6); // chance: 1/3
    expect(existsSync(path.join(runDir, 'checkpoint', 'state.json'))).toBe(true);
    expect(readdirSync(path.join(runDir, 'logs', 'tensorboard')).length).toBeGreaterThan(0);
    expect(await readFile(path.join(runDir, 'report.html'), 'utf8')).toContain('Confusion matrix');

    const evaluation = testIo();
    expect(await run(['eval', '--model', runDir, '--json'], evaluation.io)).toBe(0);
    const result = JSON.parse(evaluation.out());
    expect(result.top1).toBe(epochs[1].val.top1);
    expect(result.count).toBe(15);

    const table = testIo();
    expect(await run(['eval', '--model', runDir], table.io)).toBe(0);
    expect(table.out()).toMatch(/confusion matrix/);

    const mirrored = testIo();
    expect(await run(['eval', '--model', runDir, '--tta', 'flip', '--json'], mirrored.io)).toBe(0);
    const withTta = JSON.parse(mirrored.out());
    expect(withTta.tta).toBe('flip');
    expect(withTta.count).toBe(15);
    expect(withTta.loss).not.toBe(result.loss); // the fixture's images are not mirror-symmetric

    const predict = testIo();
    expect(
      await run(
        ['predict', '--model', runDir, '--top', '2', '--json', path.join(data, 'red', '0.png')],
        predict.io,
      ),
    ).toBe(0);
    const [prediction] = JSON.parse(predict.out());
    expect(prediction.top).toHaveLength(2);

    const predictFlip = testIo();
    const image = path.join(data, 'red', '0.png');
    expect(await run(['predict', '--model', runDir, '--tta', 'flip', '--json', image], predictFlip.io)).toBe(
      0,
    );
    const [flipped] = JSON.parse(predictFlip.out());
    const total = flipped.top.reduce((sum: number, t: { probability: number }) => sum + t.probability, 0);
    expect(total).toBeCloseTo(1, 5);

    // predict on the validation images (split.json indexes the sorted classes' sorted files)
    // names as many right as training's last validation pass.
    const files = ['blue', 'green', 'red'].flatMap((c) =>
      readdirSync(path.join(data, c))
        .sort()
        .map((f) => path.join(data, c, f)),
    );
    const split = JSON.parse(await readFile(path.join(runDir, 'split.json'), 'utf8'));
    const validation = (split.validation as number[]).map((i) => files[i] as string);
    const all = testIo();
    expect(await run(['predict', '--model', runDir, '--top', '1', '--json', ...validation], all.io)).toBe(0);
    expect(all.err()).toMatch(/^backend \w+\n$/);
    const right = (JSON.parse(all.out()) as { file: string; top: { label: string }[] }[]).filter(
      (p) => path.basename(path.dirname(p.file)) === p.top[0]?.label,
    ).length;
    expect(right / validation.length).toBeCloseTo(epochs[1].val.top1, 10);
  });

  it('fine-tunes from a run: architecture from it, a frozen stem, the head LR multiplier on the start line', async () => {
    const dir = path.join(path.dirname(runDir), 'finetuned');
    const argv = ['--pretrained', runDir, '--data', data, '--freeze', 'stem', '--head-lr-mult', '2'];
    const rest = [
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--workers',
      '0',
      '--cache-dir',
      cacheDir,
      '--out',
      dir,
    ];
    const io = testIo();
    expect(await run(['train', ...argv, ...rest], io.io)).toBe(0);
    expect(io.err()).toMatch(
      new RegExp(
        `steps per epoch; fine-tuning from pretrained weights in ${runDir} \\(resnet8, SHA-256 [0-9a-f]{12}…\\); frozen: stem \\(2 layers, [\\d,]+ weights\\); new head LR × 2\n`,
      ),
    );
    const saved = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(saved).toMatchObject({ model: 'resnet8', pretrained: runDir, freeze: 'stem', headLrMult: 2 });
  });

  it('on a terminal, training draws a progress bar with images/s and ETA', async () => {
    const tty = testIo(undefined, true);
    const dir = path.join(path.dirname(runDir), 'tty');
    expect(await run(['train', '--data', data, '--epochs', '1', ...common(), '--out', dir], tty.io)).toBe(0);
    expect(tty.screen()).toMatch(
      /epoch 1\/1 \|.*\| \d+\/3 \| loss [\d.]+ \| top-1 [\d.]+% \| \d+ img\/s \| ETA/,
    );
    expect(tty.err()).not.toMatch(/step \d+\/3/); // no plain step lines when a bar is drawn
  });

  it('killed (SIGKILL) mid-run, then resumed: the same final weights as the run never killed', async () => {
    const dir = path.join(path.dirname(runDir), 'killed');
    const argv = ['train', '--data', data, '--epochs', '2', ...common(), '--batch-size', '4', '--out', dir];
    const reference = path.join(path.dirname(runDir), 'never-killed');
    expect(await run([...argv.slice(0, -1), reference], testIo().io)).toBe(0);

    const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'resnet.js'), ...argv], {
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill as soon as the first epoch's checkpoint exists: somewhere in epoch 2 (12 steps of 4).
    const checkpoint = path.join(dir, 'checkpoint', 'state.json');
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (existsSync(checkpoint)) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 2);
    });
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    expect(JSON.parse(await readFile(checkpoint, 'utf8')).epoch).toBe(1);

    const resumed = testIo();
    expect(await run(['train', '--resume', '--out', dir], resumed.io)).toBe(0);
    expect(resumed.err()).toMatch(/resuming epoch 2 at batch 0/);
    // Bit for bit, though the two runs are separate processes (the trainer fixes oneDNN's
    // convolution layouts: see --conv-layout).
    const weights = (run: string) => readFile(path.join(run, 'model', 'weights.bin'));
    expect(Buffer.compare(await weights(dir), await weights(reference))).toBe(0);
    const logged = (await readFile(path.join(dir, 'logs', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'epoch')
      .map((l) => l.epoch);
    expect(logged).toEqual([1, 2]);
  });

  it('Ctrl-C finishes the step, writes a checkpoint and exits; --resume completes the run', async () => {
    const dir = path.join(path.dirname(runDir), 'interrupted');
    const first = testIo(/epoch 1\/2 step 1\//);
    expect(await run(['train', '--data', data, '--epochs', '2', ...common(), '--out', dir], first.io)).toBe(
      130,
    );
    expect(first.err()).toMatch(/Continue with: resnet train --resume --out/);
    const second = testIo();
    expect(await run(['train', '--resume', '--out', dir], second.io)).toBe(0);
    expect(second.err()).toMatch(/resuming epoch 1 at batch 1 \(step 1\)/);
  });

  it('a smoke run: --limit-per-class and --max-steps stop early with a model; a changed limit is refused; --max-steps 0 finishes it', async () => {
    const dir = path.join(path.dirname(runDir), 'smoke');
    const argv = ['train', '--data', data, '--epochs', '2', ...common(), '--limit-per-class', '8'];
    const smoke = testIo();
    expect(await run([...argv, '--max-steps', '3', '--out', dir], smoke.io)).toBe(0);
    // 8 of each class's 20, then the split: 6 + 2 per class; 18 images are 2 steps of 16 per epoch.
    expect(smoke.err()).toMatch(
      /3 classes, 18 training \/ 6 validation images; .* 2 steps per epoch; stopping after step 3 \(--max-steps\)/,
    );
    expect(smoke.err()).toMatch(/class counts: blue 6, green 6, red 6/);
    expect(smoke.out()).toMatch(
      new RegExp(
        `stopped early at step 3 \\(--max-steps\\).*Continue with: resnet train --resume --out ${dir} --max-steps 0`,
      ),
    );
    const evaluation = testIo();
    expect(await run(['eval', '--model', dir, '--json'], evaluation.io)).toBe(0);
    expect(JSON.parse(evaluation.out()).count).toBe(6);

    const changed = testIo();
    expect(await run(['train', '--resume', '--limit-per-class', '10', '--out', dir], changed.io)).toBe(1);
    expect(changed.err()).toMatch(
      /^resnet: --limit-per-class must stay 8 in a resumed run \(a resumed run may change only --data, --val-data, --epochs, .*--max-steps\)\n$/,
    );
    const rest = testIo();
    expect(await run(['train', '--resume', '--max-steps', '0', '--out', dir], rest.io)).toBe(0);
    expect(rest.err()).toMatch(/resuming epoch 2 at batch 1 \(step 3\)/);
    expect(rest.err()).not.toMatch(/stopping after step/);
    expect(rest.out()).not.toMatch(/stopped early/);
    const logged = (await readFile(path.join(dir, 'logs', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(logged.filter((l) => l.type === 'epoch').map((l) => l.epoch)).toEqual([1, 2]);
  });

  it('--resume without --backend activates the backend the run started on (its config.json), not auto', async () => {
    const dir = path.join(path.dirname(runDir), 'saved-backend');
    // (Small: the pure-JS cpu backend is slow.)
    const argv = ['train', '--data', data, '--epochs', '1', ...common(), '--limit-per-class', '4'];
    argv.push('--batch-size', '3');
    const first = testIo();
    expect(await run([...argv, '--backend', 'cpu', '--max-steps', '1', '--out', dir], first.io)).toBe(0);
    expect(first.err()).toMatch(/^backend cpu; 3 classes/m);
    // Another backend active (as auto leaves it): auto would never train on cpu, and train() itself
    // takes the active backend, so only the saved `backend: "cpu"` trains this on cpu.
    await useBackend('auto');
    const resumed = testIo();
    expect(await run(['train', '--resume', '--max-steps', '2', '--out', dir], resumed.io)).toBe(0);
    expect(resumed.err()).toMatch(/^backend cpu; 3 classes.*resuming epoch 1 at batch 1/m);
    expect(JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')).backend).toBe('cpu');
  }, 180_000);

  it('weights replaced by random bytes of the same size: eval and predict name the file and fail', async () => {
    const dir = path.join(path.dirname(runDir), 'smoke'); // the smoke run's finished model
    const weights = path.join(dir, 'model', 'weights.bin');
    await writeFile(weights, randomBytes((await stat(weights)).size));
    const evaluation = testIo();
    expect(await run(['eval', '--model', dir], evaluation.io)).toBe(1);
    expect(evaluation.err()).toMatch(
      new RegExp(`^resnet: .*${weights}: its SHA-256 differs .* the weights are damaged or were replaced`),
    );
    expect(evaluation.err().trim().split('\n')).toHaveLength(1);
    expect(evaluation.out()).toBe('');
    const predict = testIo();
    expect(await run(['predict', '--model', dir, path.join(data, 'red', '0.png')], predict.io)).toBe(1);
    expect(predict.err()).toMatch(/model\/weights.bin: its SHA-256 differs/);
  });

  it('Ctrl-C before the first step saves nothing, and the same command then starts afresh', async () => {
    const dir = path.join(path.dirname(runDir), 'stopped-early');
    const argv = ['train', '--data', data, '--epochs', '1', ...common(), '--out', dir];
    const first = testIo(/backend \w+; 3 classes/);
    expect(await run(argv, first.io)).toBe(130);
    expect(first.err()).toMatch(
      /stopped before training began; nothing to resume, the same command starts afresh/,
    );
    expect(await run(argv, testIo().io)).toBe(0);
  });
});

describe('bad input fails with one clear line and a non-zero exit', () => {
  /** `resnet train` of a new run on the fixture, with `flags`. */
  const freshTrain = (...flags: string[]) => [
    'train',
    '--data',
    data,
    '--model',
    'resnet8',
    ...flags,
    '--out',
    `${runDir}-fresh`,
  ];
  const cases: [string, () => string[], RegExp, number][] = [
    [
      'missing data dir',
      () => ['train', '--data', '/nonexistent/x', '--model', 'resnet8', '--out', `${runDir}-fresh`],
      /\/nonexistent\/x: data does not exist/,
      1,
    ],
    [
      'unknown model',
      () => ['train', '--data', data, '--model', 'vgg16', '--out', `${runDir}-fresh`],
      /^resnet: --model must be resnet<depth> \(e.g. resnet20, .*\) or alexnet \(got "vgg16"\)\n$/,
      1,
    ],
    ['bad number', () => freshTrain('--lr', 'fast'), /--lr <rate>' argument 'fast' is invalid/, 2],
    [
      'out-of-range value',
      () => freshTrain('--val-split', '1.5'),
      /^resnet: --val-split must be less than 1 \(got 1.5\)\n$/,
      1,
    ],
    [
      'unknown schedule',
      () => freshTrain('--schedule', 'bogus'),
      /^resnet: --schedule must be one of constant, cosine, onecycle, piecewise:<m1>,<m2>\[@epoch\|@step\] \(got "bogus"\)\n$/,
      1,
    ],
    [
      'negative learning rate',
      () => freshTrain('--lr', '-0.1'),
      /^resnet: --lr must be greater than 0 \(got -0.1\)\n$/,
      1,
    ],
    [
      'negative step limit',
      () => freshTrain('--max-steps', '-1'),
      /^resnet: --max-steps must be at least 0 \(got -1\)\n$/,
      1,
    ],
    [
      'missing --data',
      () => ['train', '--model', 'resnet8', '--out', `${runDir}-fresh`],
      /^resnet: --data is required\n$/,
      1,
    ],
    [
      'two bad flags',
      () => [
        'train',
        '--data',
        data,
        '--model',
        'resnet8',
        '--momentum',
        '1',
        '--label-smoothing',
        '-1',
        '--out',
        `${runDir}-fresh`,
      ],
      /^resnet: --momentum must be less than 1 \(got 1\); --label-smoothing must be at least 0 \(got -1\)\n$/,
      1,
    ],
    ['bad optimizer', () => freshTrain('--optimizer', 'lion'), /Allowed choices are sgd, adam, adamw/, 2],
    [
      'bad convolution layout',
      () => freshTrain('--conv-layout', 'nchw'),
      /--conv-layout <layout>' argument 'nchw' is invalid. Allowed choices are plain, blocked, timed/,
      2,
    ],
    [
      'misspelt augmentation preset',
      () => freshTrain('--augment', 'standrad'),
      /--augment <spec>' argument 'standrad' is invalid. expected standard, flip, none, a JSON pipeline/,
      2,
    ],
    [
      'augmentation file that does not exist',
      () => freshTrain('--augment', '@/nonexistent/aug.json'),
      /--augment <spec>' argument '@\/nonexistent\/aug.json' is invalid. cannot read \/nonexistent\/aug.json/,
      2,
    ],
    [
      'unknown backend',
      () => ['eval', '--model', runDir, '--backend', 'tpu'],
      /option '--backend <name>' argument 'tpu' is invalid. Allowed choices are auto, cuda, onednn/,
      2,
    ],
    [
      'unknown precision',
      () => freshTrain('--precision', 'fp16'),
      /option '--precision <p>' argument 'fp16' is invalid. Allowed choices are fp32, tf32, bf16/,
      2,
    ],
    [
      'tf32 training off the cuda backend',
      () => freshTrain('--backend', 'cpu', '--precision', 'tf32'),
      /^resnet: precision: tf32 needs --backend cuda \(backend cpu computes in fp32 only; choose --precision fp32 there\)\n$/,
      1,
    ],
    [
      'bf16 eval off the cuda backend',
      () => ['eval', '--model', runDir, '--backend', 'cpu', '--precision', 'bf16'],
      /^resnet: precision: bf16 needs --backend cuda/,
      1,
    ],
    [
      'tf32 predict off the cuda backend',
      () => [
        'predict',
        '--model',
        runDir,
        '--backend',
        'cpu',
        '--precision',
        'tf32',
        path.join(data, 'red', '0.png'),
      ],
      /^resnet: precision: tf32 needs --backend cuda/,
      1,
    ],
    [
      'missing model dir',
      () => ['eval', '--model', '/nonexistent/run'],
      /^resnet: \/nonexistent\/run: the model directory does not exist\n$/,
      1,
    ],
    [
      'missing model dir (predict)',
      () => ['predict', '--model', '/nonexistent/run', path.join(data, 'red', '0.png')],
      /^resnet: \/nonexistent\/run: the model directory does not exist\n$/,
      1,
    ],
    ['unknown summary model', () => ['summary', '--model', 'resnet21'], /depth/, 1],
    [
      'unknown --freeze part',
      () => freshTrain('--freeze', 'foo'),
      /option '--freeze <part>' argument 'foo' is invalid. Allowed choices are stem, stage1, stage2, stage3, stage4/,
      2,
    ],
    [
      '--freeze stage4 on a CIFAR ResNet',
      () => [
        'train',
        '--pretrained',
        runDir,
        '--data',
        data,
        '--freeze',
        'stage4',
        '--out',
        `${runDir}-fresh`,
      ],
      /^resnet: --freeze must be one of stem, stage1, stage2, stage3 for resnet8, which has 3 stages \(got "stage4"\)\n$/,
      1,
    ],
    [
      '--freeze without --pretrained',
      () => freshTrain('--freeze', 'stem'),
      /^resnet: --freeze needs --pretrained weights to start from \(frozen layers would keep their random initialisation\)\n$/,
      1,
    ],
    [
      'negative --head-lr-mult',
      () => freshTrain('--head-lr-mult', '-1'),
      /^resnet: --head-lr-mult must be at least 0 \(got -1\)\n$/,
      1,
    ],
    [
      '--pretrained that does not exist',
      () => ['train', '--pretrained', '/nonexistent/base', '--data', data, '--out', `${runDir}-fresh`],
      /^resnet: --pretrained \/nonexistent\/base: the model directory does not exist\n$/,
      1,
    ],
    [
      '--pretrained without a model',
      () => ['train', '--pretrained', data, '--data', data, '--out', `${runDir}-fresh`],
      /^resnet: --pretrained .*: holds no model \(no model.json, and no model\/model.json of a run directory\)\n$/,
      1,
    ],
    [
      '--model disagreeing with --pretrained',
      () => [
        'train',
        '--pretrained',
        runDir,
        '--model',
        'resnet20',
        '--data',
        data,
        '--out',
        `${runDir}-fresh`,
      ],
      /^resnet: --model must be resnet8, the architecture of the pretrained model in .*, or be left out \(got "resnet20"\)\n$/,
      1,
    ],
    [
      'unknown test-time augmentation',
      () => ['eval', '--model', runDir, '--tta', 'crop10'],
      /option '--tta <mode>' argument 'crop10' is invalid. Allowed choices are none, flip/,
      2,
    ],
  ];
  it.each(cases)('%s', async (_, argv, message, code) => {
    const io = testIo();
    expect(await run(argv(), io.io)).toBe(code);
    expect(io.err()).toMatch(message);
    expect(io.err().trim().split('\n')).toHaveLength(1);
  });

  it('an empty class folder, an unreadable image, a bad config field, a corrupt checkpoint', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cli-bad-'));
    await writeDataset(path.join(root, 'empty'), 2);
    await mkdir(path.join(root, 'empty', 'yellow'));
    let io = testIo();
    expect(
      await run(
        ['train', '--data', path.join(root, 'empty'), '--model', 'resnet8', '--out', path.join(root, 'r1')],
        io.io,
      ),
    ).toBe(1);
    expect(io.err()).toMatch(/yellow: class folder has no images/);
    expect(io.err().trim().split('\n')).toHaveLength(1);

    await writeDataset(path.join(root, 'broken'), 2);
    await writeFile(path.join(root, 'broken', 'red', 'zz.jpg'), 'not an image');
    io = testIo();
    expect(
      await run(
        [
          'train',
          '--data',
          path.join(root, 'broken'),
          '--model',
          'resnet8',
          '--cache-dir',
          cacheDir,
          '--out',
          path.join(root, 'r2'),
        ],
        io.io,
      ),
    ).toBe(1);
    expect(io.err()).toMatch(/red\/zz.jpg: unreadable image/);
    expect(io.err().trim().split('\n')).toHaveLength(1);

    await writeFile(path.join(root, 'run.json'), JSON.stringify({ data, model: 'resnet8', batchSize: -4 }));
    io = testIo();
    expect(
      await run(['train', '--config', path.join(root, 'run.json'), '--out', path.join(root, 'r3')], io.io),
    ).toBe(1);
    // A field from --config is named as written there.
    expect(io.err()).toMatch(
      `resnet: batchSize in ${path.join(root, 'run.json')} must be greater than 0 (got -4)\n`,
    );
    expect(io.err().trim().split('\n')).toHaveLength(1);
    await writeFile(path.join(root, 'partial.json'), JSON.stringify({ model: 'resnet8' }));
    io = testIo();
    expect(
      await run(
        ['train', '--config', path.join(root, 'partial.json'), '--out', path.join(root, 'r3')],
        io.io,
      ),
    ).toBe(1);
    expect(io.err()).toBe('resnet: --data is required\n');

    const dir = path.join(root, 'r4');
    io = testIo(/step 1\//);
    expect(await run(['train', '--data', data, '--epochs', '2', ...common(), '--out', dir], io.io)).toBe(130);
    await writeFile(path.join(dir, 'checkpoint', 'optimizer.json'), '{"specs": 5');
    io = testIo();
    expect(await run(['train', '--resume', '--out', dir], io.io)).toBe(1);
    expect(io.err()).toMatch(/checkpoint\/optimizer.json: not valid JSON/);
    expect(io.err().trim().split('\n')).toHaveLength(1);
  });
});

describe('config errors name the flag', () => {
  const train = () => createProgram(testIo().io, () => {}).commands.find((c) => c.name() === 'train')!;

  it('every train flag but --config, --out and --resume sets the config field of its name, and errors name the flag', () => {
    const fields = Object.keys(trainConfigSchema.shape);
    const options = train().options;
    expect(options.filter((o) => !fields.includes(o.attributeName())).map((o) => o.long)).toEqual([
      '--config',
      '--out',
      '--resume',
    ]);
    const { name, mention } = fieldNames({ out: 'run' }, options, {});
    for (const option of options.filter((o) => fields.includes(o.attributeName()))) {
      expect(name(option.attributeName())).toBe(option.long);
    }
    expect(name('batchSize')).toBe('--batch-size');
    expect(name('nesterov')).toBe('--no-nesterov');
    expect(name('schedule.minLr')).toBe('--schedule (minLr)');
    expect(mention('reportImages')).toBe('reportImages'); // no flag: the field's name
  });

  it('a field from --config is named as written there, unless a flag overrides it', () => {
    const options = train().options;
    const fromFile = { lr: 0.5, epochs: 3 };
    const { name, mention } = fieldNames({ out: 'run', config: 'run.json', epochs: 4 }, options, fromFile);
    expect(name('lr')).toBe('lr in run.json');
    expect(name('epochs')).toBe('--epochs');
    expect(name('data')).toBe('--data');
    expect(mention('lr')).toBe('--lr');
  });
});

describe('resnet summary and augment', () => {
  it('summary prints every column whole: the shapes of ResNet-50 are not cut', async () => {
    const io = testIo();
    expect(await run(['summary', '--model', 'resnet50'], io.io)).toBe(0);
    const lines = io.out().split('\n');
    const row = (layer: string) => lines.find((l) => l.startsWith(`${layer} `)) ?? '';
    expect(row('pool1_pool')).toMatch(
      /^pool1_pool \(MaxPooling2D\) +\[\[null,114,114,64\]\] +\[null,56,56,64\] +0 +pool1_pad\[0\]\[0\]$/,
    );
    expect(row('conv5_block3_add')).toMatch(
      /\[\[null,7,7,2048\],\[null,7,7,2048\]\] +\[null,7,7,2048\] +0 +conv5_block2_out\[0\]\[0\]$/,
    );
    expect(row('predictions')).toMatch(/\[null,1000\] +2049000 +avg_pool\[0\]\[0\]$/);
    expect(io.out()).toMatch(/Parameters: 25,6\d\d,\d{3} \(25,5\d\d,\d{3} trainable\)/);
  });

  it('summary reports parameters and FLOPs', async () => {
    const io = testIo();
    expect(await run(['summary', '--model', 'resnet20', '--json'], io.io)).toBe(0);
    const summary = JSON.parse(io.out());
    expect(summary.params).toEqual({ trainable: 269_722, nonTrainable: 1_376, total: 271_098 });
    expect(summary.flops).toBeGreaterThan(40e6);
  });

  it('augment balances every class to --per-class', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cli-aug-'));
    await writeDataset(root, 3);
    const io = testIo();
    expect(await run(['augment', root, '--per-class', '5', '--json'], io.io)).toBe(0);
    const report = JSON.parse(io.out());
    expect(Object.values(report.classes).map((c) => (c as { total: number }).total)).toEqual([5, 5, 5]);
  });
});

/**
 * A loopback server for the scrape tests: `files` by path as JPEGs, 404 for any other path, and
 * `/stall.jpg` never answered.
 */
async function serveImages(files: Record<string, Uint8Array>) {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    if (req.url === '/stall.jpg') return;
    const body = files[req.url ?? ''];
    res.writeHead(body ? 200 : 404, body ? { 'content-type': 'image/jpeg' } : {});
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}` };
}

describe('resnet scrape', () => {
  it('downloads exactly --per-class images per class from a URL list, and names a bad wnid', async () => {
    const jpegs = await Promise.all(
      [0, 1, 2].map((n) =>
        encodeImage(
          {
            data: new Uint8Array(40 * 40 * 3).map((_, i) => (i * (n + 3)) % 251),
            width: 40,
            height: 40,
            channels: 3,
          },
          'jpeg',
        ),
      ),
    );
    const { base, server } = await serveImages(
      Object.fromEntries(jpegs.map((jpeg, n) => [`/${n}.jpg`, jpeg])),
    );
    try {
      const root = await mkdtemp(path.join(os.tmpdir(), 'cli-scrape-'));
      await mkdir(path.join(root, 'urls'));
      await writeFile(
        path.join(root, 'urls', 'n01440764.txt'),
        [`${base}/9.jpg`, `${base}/0.jpg`, `${base}/1.jpg`, `${base}/2.jpg`].join('\n'),
      );
      const io = testIo();
      const code = await run(
        [
          'scrape',
          '--wnids',
          'n01440764',
          '--per-class',
          '2',
          '--url-source',
          path.join(root, 'urls'),
          '--out',
          path.join(root, 'out'),
          '--json',
        ],
        io.io,
      );
      expect(io.err()).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(io.out()).classes.n01440764).toMatchObject({ folder: 'tench', saved: 2 });
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(path.join(root, 'out', 'tench'))).toHaveLength(2);
      const bad = testIo();
      expect(
        await run(
          [
            'scrape',
            '--wnids',
            'n0000000x',
            '--per-class',
            '2',
            '--url-source',
            path.join(root, 'urls'),
            '--out',
            path.join(root, 'out'),
          ],
          bad.io,
        ),
      ).toBe(1);
      expect(bad.err()).toMatch(/wnids: n0000000x is not in the class table/);
    } finally {
      server.close();
    }
  });

  it('--output-format webdataset writes tar shards of --shard-size images that train --data reads', async () => {
    const jpegs = await Promise.all(
      [0, 1, 2, 3, 4].map((n) =>
        encodeImage(
          {
            data: new Uint8Array(40 * 40 * 3).map((_, i) => (i * (n + 3)) % 251),
            width: 40,
            height: 40,
            channels: 3,
          },
          'jpeg',
        ),
      ),
    );
    const { base, server } = await serveImages(
      Object.fromEntries(jpegs.map((jpeg, n) => [`/${n}.jpg`, jpeg])),
    );
    try {
      const root = await mkdtemp(path.join(os.tmpdir(), 'cli-scrape-wds-'));
      await mkdir(path.join(root, 'urls'));
      await writeFile(path.join(root, 'urls', 'n01440764.txt'), `${base}/0.jpg\n${base}/1.jpg\n`);
      await writeFile(
        path.join(root, 'urls', 'n01443537.txt'),
        `${base}/2.jpg\n${base}/3.jpg\n${base}/4.jpg\n`,
      );
      const out = path.join(root, 'out');
      const args = (...extra: string[]) => [
        'scrape',
        '--wnids',
        'n01440764,n01443537',
        '--per-class',
        '2',
        '--url-source',
        path.join(root, 'urls'),
        '--out',
        out,
        ...extra,
      ];
      const io = testIo();
      expect(await run(args('--output-format', 'webdataset', '--shard-size', '3'), io.io)).toBe(0);
      expect(io.err()).toBe('');
      expect(io.out()).toContain(`shards listed in ${out}/shards.json`);
      expect(readdirSync(out).sort()).toEqual([
        '.scrape',
        'shard-000000.tar',
        'shard-000001.tar',
        'shards.json',
      ]);
      const { openDataset } = await import('@resnet-ts/train');
      const opened = await openDataset(out, { cacheDir: path.join(root, 'cache') });
      expect(opened.train.classes).toEqual(['tench', 'goldfish']);
      expect(Array.from(opened.train.labels)).toEqual([0, 0, 1, 1]);

      const bad = testIo();
      expect(await run(args('--shard-size', '0'), bad.io)).toBe(2);
      expect(bad.err()).toMatch(/--shard-size <n>' argument '0' is invalid. expected a positive integer/);
      const folder = testIo();
      expect(await run(args('--shard-size', '3'), folder.io)).toBe(1);
      expect(folder.err()).toMatch(/--shard-size needs --output-format webdataset/);
    } finally {
      server.close();
    }
  });

  it('--max-megapixels refuses a larger image from its header as a decompression bomb', async () => {
    const image = (width: number, height: number) =>
      encodeImage(
        { data: new Uint8Array(width * height * 3).map((_, i) => (i * 7) % 251), width, height, channels: 3 },
        'jpeg',
      );
    const files: Record<string, Uint8Array> = {
      '/big.jpg': await image(1200, 1000),
      '/small.jpg': await image(40, 40),
    };
    const { base, server } = await serveImages(files);
    try {
      const root = await mkdtemp(path.join(os.tmpdir(), 'cli-scrape-'));
      await mkdir(path.join(root, 'urls'));
      await writeFile(path.join(root, 'urls', 'n01440764.txt'), `${base}/big.jpg\n${base}/small.jpg\n`);
      const io = testIo();
      const code = await run(
        [
          'scrape',
          '--wnids',
          'n01440764',
          '--per-class',
          '1',
          '--url-source',
          path.join(root, 'urls'),
          '--out',
          path.join(root, 'out'),
          '--max-megapixels',
          '1',
          '--decode-memory',
          '64',
          '--json',
        ],
        io.io,
      );
      expect(io.err()).toBe('');
      expect(code).toBe(0);
      const report = JSON.parse(io.out());
      expect(report.classes.n01440764).toMatchObject({ saved: 1 });
      expect(report.stats.other.failures).toEqual({ 'decompression-bomb': 1 });
    } finally {
      server.close();
    }
  });

  it('--placeholder catches look-alikes of a given image; --headers-timeout and --retries bound a stalled URL', async () => {
    const pixels = (shift: number) => ({
      data: new Uint8Array(200 * 150 * 3).map((_, i) => ((Math.floor(i / 3 / 8) * 37) % 200) + shift),
      width: 200,
      height: 150,
      channels: 3 as const,
    });
    const files: Record<string, Uint8Array> = {
      '/lookalike.jpg': await encodeImage(pixels(4), 'jpeg'), // not the same bytes: the same picture
      '/photo.jpg': await encodeImage(
        { ...pixels(0), data: new Uint8Array(200 * 150 * 3).map((_, i) => (i * 7919) % 251) },
        'jpeg',
      ),
    };
    const { base, server } = await serveImages(files);
    try {
      const root = await mkdtemp(path.join(os.tmpdir(), 'cli-scrape-'));
      await mkdir(path.join(root, 'urls'));
      await writeFile(
        path.join(root, 'urls', 'n01440764.txt'),
        [`${base}/stall.jpg`, `${base}/lookalike.jpg`, `${base}/photo.jpg`].join('\n'),
      );
      await writeFile(path.join(root, 'card.jpg'), await encodeImage(pixels(0), 'jpeg'));
      const args = (...extra: string[]) => [
        'scrape',
        '--wnids',
        'n01440764',
        '--per-class',
        '1',
        '--url-source',
        path.join(root, 'urls'),
        '--out',
        path.join(root, 'out'),
        ...extra,
      ];
      const io = testIo();
      const started = Date.now();
      const flags = [
        '--placeholder',
        path.join(root, 'card.jpg'),
        '--headers-timeout',
        '300',
        '--retries',
        '0',
      ];
      expect(await run(args(...flags, '--json'), io.io)).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
      const report = JSON.parse(io.out());
      expect(report.classes.n01440764).toMatchObject({ saved: 1 });
      expect(report.stats.other.failures).toEqual({ placeholder: 1, timeout: 1 });
      const manifest = await readFile(
        path.join(root, 'out', '.scrape', 'manifests', 'n01440764.jsonl'),
        'utf8',
      );
      expect(manifest).toContain('"message":"timed out: no response headers within 0.3 s"');

      const missing = testIo();
      expect(await run(args('--placeholder', path.join(root, 'nope.png')), missing.io)).toBe(1);
      expect(missing.err()).toMatch(/--placeholder: cannot read .*nope\.png/);
      const negative = testIo();
      expect(await run(args('--retries', '-1'), negative.io)).toBe(2); // a usage error
      expect(negative.err()).toMatch(
        /--retries <n>' argument '-1' is invalid. expected an integer of 0 or more/,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("random classes from --class-info need the original project's minimum of URLs, unless --min-urls says otherwise", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cli-scrape-'));
    const info = path.join(root, 'info.json');
    const entry = { img_url_count: 12, flickr_img_url_count: 12, class_name: 'organism' };
    await writeFile(info, JSON.stringify({ n00004475: entry }));
    const args = ['scrape', '--classes', '1', '--class-info', info, '--per-class', '10'];
    const where = ['--url-source', root, '--out', path.join(root, 'out')];
    const strict = testIo();
    expect(await run([...args, ...where], strict.io)).toBe(1);
    expect(strict.err()).toMatch(/only 0 have at least 13 URLs/); // 10 / 0.8
    const lenient = testIo();
    expect(await run([...args, '--min-urls', '12', ...where], lenient.io)).toBe(1);
    expect(lenient.err()).toMatch(/n00004475\.txt does not exist/); // selected; no URL list
  });
});
