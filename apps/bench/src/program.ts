import { BACKENDS, configureBackend, PRECISIONS, useBackend } from '@resnet-ts/backends';
import { describeModelNames, parseModelName } from '@resnet-ts/resnet-core';
import { measureThroughput, type NumberRule, numberParser } from '@resnet-ts/train';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runCompare } from './commands/compare';
import { runScaling } from './commands/scaling';
import { runThroughput } from './commands/throughput';

// Numeric flags read by train's one rule set (the resnet CLI uses the same), reported as commander's errors.
const numberFlag = (rule: NumberRule) => numberParser(rule, (message) => new InvalidArgumentError(message));

const positiveInteger = numberFlag('positive-integer');
const integer = numberFlag('integer');
/** Warm-up steps and worker counts: 0 is allowed, negatives and fractions are not. */
const nonNegativeInteger = numberFlag('non-negative-integer');
const number = numberFlag('number');

const collect = (value: string, previous: string[]) => [...previous, value];
/** The backends that train (wasm cannot); a bad name is useBackend's error, which names them all. */
const BACKEND = BACKENDS.filter((b) => b !== 'wasm').join('|');
const precisionOption = () =>
  new Option('--precision <p>', 'cuda matrix products and convolutions (other backends: fp32 only)')
    .choices(PRECISIONS)
    .default('fp32');

export function createProgram(print: (line: string) => void, printError: (line: string) => void): Command {
  const program = new Command('resnet-bench')
    .description('Throughput, architecture comparison and scaling of ResNets, beside PyTorch and Keras')
    .configureOutput({ writeOut: (t) => print(t.trimEnd()), writeErr: (t) => printError(t.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('throughput')
    .description('train and inference images/s, parameters, FLOPs and peak RSS per model; ratios to peers')
    .option(
      '--models <list>',
      `comma-separated: ${describeModelNames()}`,
      'resnet20,resnet56,resnet18,resnet34,resnet50,alexnet',
    )
    .option('--batch <n>', 'batch size (default: 128 CIFAR, 32 ImageNet)', positiveInteger)
    .option('--size <pixels>', 'image side (default: 32 CIFAR, 224 ImageNet, 227 AlexNet)', positiveInteger)
    .option('--backend <name>', BACKEND, 'auto')
    .addOption(precisionOption())
    .option('--threads <n>', 'oneDNN threads', positiveInteger)
    .option('--shortcut <A|B|C>', "shortcut of the CIFAR ResNets (default A; Keras's peer builds B)")
    .option('--steps <n>', 'timed steps (median reported)', positiveInteger, 6)
    .option('--warmup <n>', 'untimed steps first', nonNegativeInteger, 2)
    .option('--rounds <n>', 'alternate ours and the peers this many times; median ratios', positiveInteger, 1)
    .option(
      '--peer <command>',
      'peer benchmark command, e.g. "python3 ../shared/peers/pytorch_bench.py" (repeatable)',
      collect,
      [],
    )
    .option('--out <dir>', 'results folder', 'bench-results')
    .action(async (flags) => {
      await runThroughput(flags, print);
    });

  program
    .command('compare')
    .description(
      "the original project's table: train each model on the same data; accuracy per epoch, s/epoch vs params and FLOPs",
    )
    .requiredOption('--data <source>', 'folder of class folders, .tar(.gz) of them, or cifar10[:<path>]')
    .option(
      '--models <list>',
      `comma-separated: ${describeModelNames()}`,
      'alexnet,resnet18,resnet34,resnet50',
    )
    .option('--epochs <n>', 'epochs per model', positiveInteger, 5)
    .option('--size <pixels>', 'resize images to this square size (AlexNet needs ≥ 67)', positiveInteger, 72)
    .option('--per-class <n>', 'use the first N images of each class', positiveInteger)
    .option('--batch-size <n>', 'images per step', positiveInteger, 32)
    .option('--lr <rate>', 'peak learning rate (one-cycle)', number, 0.05)
    .option('--optimizer <name>', 'sgd|adam|adamw', 'sgd')
    .option(
      '--normalization <mode>',
      'per-pixel-mean|imagenet|caffe|tf|none (default: per-pixel mean for small images)',
    )
    .option('--val-split <fraction>', 'stratified validation fraction', number, 0.2)
    .option('--seed <n>', 'seed', integer, 0)
    .option('--backend <name>', BACKEND, 'auto')
    .addOption(precisionOption())
    .option('--workers <n>', 'batch worker threads', nonNegativeInteger, 1)
    .option('--out <dir>', 'results folder', 'bench-results')
    .action(async (flags) => {
      await runCompare(flags, print);
    });

  program
    .command('scaling')
    .description('time per training step against depth, batch size and image size, with fitted growth')
    .option('--depths <list>', 'CIFAR depths', '20,32,44,56,110')
    .option('--batches <list>', 'batch sizes', '16,32,64,128,256')
    .option('--sizes <list>', 'image sides', '32,48,64,96,128')
    .option('--model <name>', 'model of the batch and size sweeps', 'resnet20')
    .option('--steps <n>', 'timed steps', positiveInteger, 4)
    .option('--warmup <n>', 'untimed steps', nonNegativeInteger, 1)
    .option('--backend <name>', BACKEND, 'auto')
    .addOption(precisionOption())
    .option('--out <dir>', 'results folder', 'bench-results')
    .action(async (flags) => {
      await runScaling(flags, print);
    });

  program
    .command('measure', { hidden: true })
    .description('one model in this process (used by throughput and scaling)')
    .requiredOption('--model <name>')
    .option('--batch <n>', '', positiveInteger)
    .option('--size <pixels>', '', positiveInteger)
    .option('--steps <n>', '', positiveInteger, 6)
    .option('--warmup <n>', '', nonNegativeInteger, 2)
    .option('--threads <n>', '', positiveInteger)
    .option('--shortcut <A|B|C>', '')
    .option('--backend <name>', BACKEND, 'auto')
    .addOption(precisionOption())
    .action(async (flags) => {
      await useBackend(flags.backend);
      // Threads where the backend has the setting (oneDNN); a precision it lacks is an error.
      await configureBackend({ threads: flags.threads, precision: flags.precision });
      const cifar = parseModelName(flags.model).family === 'cifar';
      const modelOptions = flags.shortcut && cifar ? { shortcut: flags.shortcut } : undefined;
      print(
        JSON.stringify(
          await measureThroughput({
            model: flags.model,
            batch: flags.batch,
            size: flags.size,
            steps: flags.steps,
            warmup: flags.warmup,
            modelOptions,
          }),
        ),
      );
    });
  return program;
}

export async function run(
  argv: string[],
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<number> {
  try {
    await createProgram(print, printError).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    printError(`resnet-bench: ${(error as Error).message}`);
    return 1;
  }
}
