import { BACKENDS, CONV_LAYOUTS, PRECISIONS } from '@resnet-ts/backends';
import { WEIGHT_SOURCES } from '@resnet-ts/interop';
import { describeModelNames } from '@resnet-ts/resnet-core';
import { AUGMENT_PRESETS, FREEZE_POINTS } from '@resnet-ts/train';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runAugment } from './commands/augment';
import { runConvert } from './commands/convert';
import { runDoctor } from './commands/doctor';
import { runEval } from './commands/eval';
import { EXPORT_FORMATS, opset, runExport } from './commands/export';
import { runPredict } from './commands/predict';
import { runScrape } from './commands/scrape';
import { runScrapeStatus, runScrapeWorker } from './commands/scrape-queue';
import { runSummary } from './commands/summary';
import { runTrain } from './commands/train';
import type { Io } from './io';
import { integer, json, nonNegativeInteger, number, positiveInteger } from './parse';
import { CLI_VERSION } from './version';

/** The TensorFlow.js backend; train leaves the default to the run's config (auto, or what it resumed with). */
const backendOption = (defaultValue?: string) => {
  const option = new Option(
    '--backend <name>',
    'TensorFlow.js backend (auto: the fastest that loads)',
  ).choices(BACKENDS);
  return defaultValue === undefined ? option : option.default(defaultValue);
};

/** The cuda backend's arithmetic; left out, train keeps the run's config (fp32, or what it resumed with). */
const precisionOption = (defaultText: string) =>
  new Option(
    '--precision <p>',
    `cuda matrix products and convolutions: fp32 (full single precision), tf32 or bf16 (faster); other backends: fp32 only (default ${defaultText})`,
  ).choices(PRECISIONS);

/** A preset name, or a JSON pipeline inline or from @file; parsed here so a bad one is a flag error. */
function augmentSpec(value: string): unknown {
  if ((AUGMENT_PRESETS as readonly string[]).includes(value)) return value;
  if (!/^\s*[{@]/.test(value))
    throw new InvalidArgumentError(
      `expected ${AUGMENT_PRESETS.join(', ')}, a JSON pipeline {"steps":[…]} or @file.json`,
    );
  return json(value);
}

/** Test-time augmentation for eval and predict. */
const ttaOption = () =>
  new Option('--tta <mode>', "test-time augmentation: none, or flip (mean with each image's mirror)")
    .choices(['none', 'flip'])
    .default('none');

const SCRAPE_REQUIRED = [
  ['--per-class <n>', 'perClass'],
  ['--out <dir>', 'out'],
  ['--url-source <source>', 'urlSource'],
] as const;

/** The `resnet` command tree. Actions resolve to an exit code. */
export function createProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command('resnet')
    .description('Train, evaluate and ship ResNets on TensorFlow.js')
    .version(CLI_VERSION, '-V, --version', 'print the version')
    // One line per error, the usage hint on it (commander would print the hint on a second line).
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`${text.trimEnd()} (run with --help for usage)\n`),
    })
    .exitOverride()
    // Options belong to the command they follow (`scrape --queue` vs `scrape worker --queue`).
    .enablePositionalOptions();

  program
    .command('train')
    .description('train a ResNet (or AlexNet) on a folder of class folders, an archive of them, or CIFAR-10')
    .option('--config <file>', 'a JSON run configuration; flags override its fields')
    .option(
      '--data <source>',
      'folder of class folders, .tar(.gz) of them, WebDataset shards (a folder with shards.json or of nothing but shards, a shard, or shard-{000000..000009}.tar), cifar10, or cifar10:<archive|dir>',
    )
    .option('--val-data <dir>', 'held-out validation folder (otherwise --val-split of --data)')
    .option(
      '--model <name>',
      `${describeModelNames()} (with --pretrained: its architecture; given, it must agree)`,
    )
    .option(
      '--model-options <json>',
      'extra builder options as JSON or @file (e.g. {"shortcut":"B","width":2})',
      json,
    )
    .option(
      '--pretrained <dir>',
      'fine-tune: start from this exported model or run directory (its architecture, normalisation and input size; a new classifier head for --data)',
    )
    .addOption(
      new Option(
        '--freeze <part>',
        'with --pretrained: keep the layers up to and including this part fixed, batch norms in inference mode (CIFAR ResNets: stem..stage3)',
      ).choices(FREEZE_POINTS),
    )
    .option(
      '--head-lr-mult <k>',
      "the classifier head's learning rate is k × the schedule's (default 1; 0 keeps it at init)",
      number,
    )
    .option(
      '--image-size <pixels>',
      "resize images to this square size (with --pretrained: default the pretrained model's)",
      positiveInteger,
    )
    .option('--epochs <n>', 'epochs to train (default 30)', positiveInteger)
    .option(
      '--max-steps <n>',
      'stop after this many optimizer steps in all, saving the checkpoint, model and report (a smoke run; 0: no limit, e.g. to finish it with --resume)',
      integer,
    )
    .option('--batch-size <n>', 'images per step (default 128)', positiveInteger)
    .option('--lr <rate>', 'base (peak) learning rate (default 0.1)', number)
    .option('--schedule <name>', 'onecycle|cosine|constant|piecewise:<m1>,<m2>[@epoch] (default onecycle)')
    .option('--warmup-epochs <n>', 'linear warm-up epochs (default 0)', number)
    .addOption(new Option('--optimizer <name>', 'optimizer (default sgd)').choices(['sgd', 'adam', 'adamw']))
    .option('--momentum <m>', 'SGD momentum (default 0.9)', number)
    .option('--no-nesterov', 'plain instead of Nesterov momentum')
    .option(
      '--weight-decay <wd>',
      'decoupled weight decay (default 5e-3 ≈ coupled 5e-4 at momentum 0.9)',
      number,
    )
    .option('--decay-all', 'also decay batch-norm and bias parameters')
    .option('--label-smoothing <eps>', 'label smoothing (default 0)', number)
    .option('--mixup <alpha>', 'MixUp every training batch with Beta(alpha, alpha) (e.g. 0.2)', number)
    .option(
      '--cutmix <alpha>',
      'CutMix every training batch (e.g. 1.0); with --mixup, one of the two per batch',
      number,
    )
    .option('--val-split <fraction>', 'stratified validation fraction of --data (default 0.1)', number)
    .option(
      '--limit-per-class <n>',
      'use at most this many images of each class, chosen by --seed, before the split (a smoke run)',
      positiveInteger,
    )
    .option('--augment <spec>', 'standard|flip|none, or a JSON pipeline {"steps":[…]} / @file', augmentSpec)
    .addOption(
      new Option(
        '--normalization <mode>',
        "input normalisation (with --pretrained: default the pretrained model's)",
      ).choices(['per-pixel-mean', 'imagenet', 'caffe', 'tf', 'none']),
    )
    .option('--seed <n>', 'seed for initialisation, split, order and augmentation (default 0)', integer)
    .option('--workers <n>', 'worker threads preparing batches (default 1)', integer)
    .addOption(backendOption())
    .option('--threads <n>', 'oneDNN threads (default: all cores)', positiveInteger)
    .addOption(
      new Option(
        '--conv-layout <layout>',
        'oneDNN convolution layouts: plain or blocked give the same bits in every process (default plain); timed picks the faster per shape',
      ).choices(CONV_LAYOUTS),
    )
    .addOption(precisionOption('fp32; a resumed run keeps its own'))
    .option(
      '--early-stopping <epochs>',
      'stop after this many epochs without a better validation top-1',
      positiveInteger,
    )
    .option('--log-every <steps>', 'log every this many steps (default 50)', positiveInteger)
    .option('--cache-dir <dir>', 'dataset cache (default ~/.cache/resnet-ts)')
    .requiredOption('--out <runDir>', 'run directory: checkpoint, logs, models, report')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .action(async (options, command: Command) => setExitCode(await runTrain(options, io, command.options)));

  program
    .command('eval')
    .description('evaluate a trained model: loss, top-1, top-5, per-class accuracy, confusion matrix')
    .requiredOption('--model <dir>', 'run directory (its final model) or exported model directory')
    .option('--data <source>', "data to evaluate (default: the run's data)")
    .addOption(
      new Option(
        '--split <split>',
        "val: the run's validation split; all; test: CIFAR-10 test batch or val/ tree",
      ).choices(['val', 'all', 'test']),
    )
    .option('--batch-size <n>', 'images per batch (default 128)', positiveInteger)
    .addOption(ttaOption())
    .addOption(backendOption('auto'))
    .addOption(precisionOption("the run's on cuda, fp32 elsewhere"))
    .option('--json', 'print JSON')
    .action(async (options) => setExitCode(await runEval(options, io)));

  program
    .command('predict')
    .description('classify images with a trained model')
    .requiredOption('--model <dir>', 'run directory or exported model directory')
    .argument('<images...>', 'image files')
    .option('--top <k>', 'classes to show per image (default 5)', positiveInteger, 5)
    .option('--batch-size <n>', 'images decoded and scored at once (default 32)', positiveInteger)
    .addOption(ttaOption())
    .addOption(backendOption('auto'))
    .addOption(precisionOption("the run's on cuda, fp32 elsewhere"))
    .option('--json', 'print JSON')
    .action(async (images: string[], options) => setExitCode(await runPredict(images, options, io)));

  program
    .command('summary')
    .description('layers, parameters (trainable / non-trainable) and FLOPs of a model')
    .requiredOption('--model <name>', describeModelNames())
    .option(
      '--input <pixels>',
      'input size (default 32 for CIFAR depths, 224 otherwise, 227 AlexNet)',
      positiveInteger,
    )
    .option('--classes <n>', 'output classes (default 10 for CIFAR depths, 1000 otherwise)', positiveInteger)
    .option('--model-options <json>', 'extra builder options as JSON or @file', json)
    .option('--json', 'print JSON')
    .action(async (options) => setExitCode(await runSummary(options, io)));

  program
    .command('augment')
    .description('balance a folder of class folders to exactly N images per class with augmented copies')
    .argument('<dir>', 'folder of class folders')
    .requiredOption('--per-class <n>', 'images every class ends with', positiveInteger)
    .option('--out <dir>', 'write the balanced tree here (default: beside the originals)')
    .option('--downsample', 'sample classes above --per-class down (needs --out)')
    .option(
      '--ops <json>',
      'augmentation steps of each variant, JSON or @file (default: flip + mild colour jitter)',
      json,
    )
    .option('--seed <n>', 'seed (default 0)', integer)
    .option('--json', 'print JSON')
    .action(async (dir: string, options) => setExitCode(await runAugment(dir, options, io)));

  const scrape = program
    .command('scrape')
    .description(
      'download an ImageNet-style dataset: validated, deduplicated, resumable, exactly --per-class images',
    )
    .option(
      '--wnids <list>',
      'WordNet ids, comma-separated (checked against the ILSVRC-2012 table or --class-info)',
    )
    .option('--classes <n>', 'or this many random classes (seeded)', positiveInteger)
    .option(
      '--min-urls <n>',
      "random classes need at least this many URLs (default: the original project's per-class/0.8 rule)",
      positiveInteger,
    )
    .option('--class-info <json>', "class table in the original project's imagenet_class_info.json format")
    .option('--flickr-only', 'only Flickr URLs')
    .option('--per-class <n>', 'images per class (required)', positiveInteger)
    .option(
      '--out <dir>',
      '(required) output root: <out>/<class name>/<wnid>_<sha256>.<ext>, or WebDataset shards <out>/shard-000000.tar …',
    )
    .addOption(
      new Option(
        '--output-format <format>',
        'class folders, or WebDataset tar shards ({key}.jpg, .cls, .json) indexed by <out>/shards.json',
      )
        .choices(['folder', 'webdataset'])
        .default('folder'),
    )
    .option('--shard-size <n>', 'images per WebDataset shard (default 1000)', positiveInteger)
    .option(
      '--url-source <source>',
      '(required) http(s) template with {wnid}, a directory of <wnid>.txt, or a CSV/TSV/JSONL list',
    )
    .option('--concurrency <n>', 'requests in flight (default 64)', positiveInteger)
    .option('--per-host <n>', 'requests per host (default 8)', positiveInteger)
    .option('--timeout <ms>', 'whole-request timeout per attempt (default 30000)', positiveInteger)
    .option('--connect-timeout <ms>', 'connection timeout per attempt (default 10000)', positiveInteger)
    .option(
      '--headers-timeout <ms>',
      'wait for response headers per attempt (default 15000)',
      positiveInteger,
    )
    .option('--body-timeout <ms>', 'longest pause between body chunks (default 15000)', positiveInteger)
    .option('--retries <n>', 'retries of transient failures (default 2)', nonNegativeInteger)
    .option('--min-size <pixels>', 'minimum width and height (default 32)', positiveInteger)
    .option(
      '--max-megapixels <n>',
      'larger images fail as decompression-bomb, read from the header before decoding (default 50)',
      positiveInteger,
    )
    .option(
      '--decode-memory <MiB>',
      'decoded pixels held at once across checks (default 1024, at most a quarter of RAM)',
      positiveInteger,
    )
    .option(
      '--resize-shorter <pixels>',
      'shrink so the shorter side is at most this, re-encode JPEG',
      positiveInteger,
    )
    .option(
      '--resize-max <pixels>',
      'shrink so the longer side is at most this, re-encode JPEG',
      positiveInteger,
    )
    .option(
      '--placeholder <image>',
      "a known placeholder image: look-alikes fail as placeholder (repeatable; Flickr's card is built in)",
      (file: string, files: string[]) => [...files, file],
      [] as string[],
    )
    .option(
      '--placeholder-distance <bits>',
      'most dHash bits (of 64) an image may differ from a placeholder and be one (default 5)',
      nonNegativeInteger,
    )
    .option('--debug-csv', "write the original project's per-URL debug CSV")
    .option('--no-noai', 'ignore X-Robots-Tag noai / noimageai (respected by default)')
    .option('--seed <n>', 'seed for random classes', integer)
    .option(
      '--queue <redis-url>',
      'spread the run over workers (resnet scrape worker) through Redis; --out must be a folder they all see',
    )
    .option('--queue-name <name>', 'several runs can share one Redis under different names (default scrape)')
    .option('--json', 'print the report as JSON')
    .action(async (options) => {
      // Checked here, not by commander: it would demand them of `scrape worker` and `scrape status` too.
      for (const [flag, key] of SCRAPE_REQUIRED)
        if (options[key] === undefined) scrape.error(`error: required option '${flag}' not specified`);
      setExitCode(await runScrape(options, io));
    });

  // `scrape worker --queue …`: the subcommand's own --queue, not the run's.
  scrape.enablePositionalOptions();
  scrape
    .command('worker')
    .description(
      'take class jobs of a `resnet scrape --queue` run; any number, on any machines that see its --out',
    )
    .requiredOption('--queue <redis-url>', "the run's Redis")
    .option('--queue-name <name>', "the run's queue name (default scrape)")
    .option('--classes-at-once <n>', 'classes worked on at once (default 4)', positiveInteger)
    .option(
      '--concurrency <n>',
      "downloads in flight here (default: the run's --concurrency)",
      positiveInteger,
    )
    .option('--decode-memory <MiB>', "decoded pixels held at once here (default: the run's)", positiveInteger)
    .option(
      '--out <dir>',
      "the run's output folder as mounted here (default: the path the run was started with)",
    )
    .option('--serve', 'keep serving later runs on the queue (default: exit when the run ends)')
    .option(
      '--lock-timeout <ms>',
      'a worker silent this long is presumed dead and its classes go to others (default 30000)',
      positiveInteger,
    )
    .option('--json', 'print the report as JSON')
    .action(async (options) => setExitCode(await runScrapeWorker(options, io)));

  scrape
    .command('status')
    .description('progress of the run on a queue, per class')
    .requiredOption('--queue <redis-url>', "the run's Redis")
    .option('--queue-name <name>', "the run's queue name (default scrape)")
    .option('--json', 'print JSON')
    .action(async (options) => setExitCode(await runScrapeStatus(options, io)));

  program
    .command('convert')
    .description(
      'turn torchvision, timm or Keras ResNet weights (.safetensors, .pth/.pt, .h5/.weights.h5/.keras) into a model directory that eval, predict and train --pretrained load',
    )
    .argument('<weights>', 'the weight file')
    .addOption(
      new Option('--from <source>', 'whose weights they are').choices(WEIGHT_SOURCES).makeOptionMandatory(),
    )
    .option('--model <name>', "the architecture you expect (resnet18, resnet50, …); default: the file's")
    .requiredOption(
      '--out <dir>',
      'model directory to write (model.json, weights.bin, labels.json, preprocessing.json)',
    )
    .option(
      '--image-size <pixels>',
      'input side (default 224, or 32 for a CIFAR-style stem)',
      positiveInteger,
    )
    .option(
      '--labels <file>',
      'class names, a JSON array or one per line (default: the ImageNet names for 1,000 outputs)',
    )
    .addOption(
      new Option(
        '--normalization <mode>',
        'input normalisation the weights were trained with (default: imagenet for torchvision/timm, caffe for Keras)',
      ).choices(['imagenet', 'caffe', 'tf', 'none']),
    )
    .option('--json', 'print JSON')
    .action(async (weights: string, options) => setExitCode(await runConvert(weights, options, io)));

  program
    .command('export')
    .description(
      'write a trained model as ONNX (onnxruntime, TensorRT, OpenVINO …; batch norms folded, labels and preprocessing in its metadata) or copy it as a TensorFlow.js layers model',
    )
    .requiredOption('--model <dir>', 'run directory (its final model) or exported model directory')
    .addOption(
      new Option(
        '--format <format>',
        'onnx: one .onnx file; tfjs: a model directory (model.json, weights.bin, …)',
      )
        .choices(EXPORT_FORMATS)
        .makeOptionMandatory(),
    )
    .requiredOption('--out <path>', 'the .onnx file (replaced if it exists) or the new model directory')
    .option('--opset <n>', 'ONNX operator set, 13 to 21 (default 17)', opset)
    .option('--json', 'print JSON')
    .action(async (options) => setExitCode(await runExport(options, io)));

  program
    .command('doctor')
    .description(
      'check this machine: each backend and why it is unavailable, oneDNN, CUDA toolkit and GPU, data cache, and the fix for what is missing',
    )
    .option('--json', 'print JSON')
    .action(async (options) => setExitCode(await runDoctor(options, io)));

  return program;
}

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let code = 0;
  const program = createProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.stderr(`resnet: ${(error as Error).message}\n`);
    return 1;
  }
}
