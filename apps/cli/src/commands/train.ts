import { existsSync, readFileSync } from 'node:fs';
import {
  ConfigError,
  resolveRunConfig,
  runFiles,
  type TrainConfigInput,
  type TrainOptions,
  type TrainResult,
  train,
} from '@resnet-ts/train';
import type { Option } from 'commander';
import { useTrainingBackend } from '../backend';
import { type Io, UsageError } from '../io';
import { TrainProgress } from '../progress';

export interface TrainFlags {
  config?: string;
  out: string;
  resume?: boolean;
  nesterov?: boolean;
  augment?: unknown;
  [flag: string]: unknown;
}

/** Flags that are not config fields. */
const NOT_CONFIG = new Set(['config', 'out', 'resume']);

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`--config: cannot read ${file}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('expected a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--config: ${file} is not a JSON object (${(error as Error).message})`);
  }
}

/** The config fields given by flags: only explicitly given ones count. */
function givenFlags(flags: TrainFlags): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) {
    if (NOT_CONFIG.has(key) || value === undefined) continue;
    if (key === 'nesterov' && value === true) continue; // commander's default for --no-nesterov
    given[key] = value;
  }
  return given;
}

/** The run configuration from --config and flags (flags win); only explicitly given flags count. */
export function configFromFlags(flags: TrainFlags): Partial<TrainConfigInput> {
  const config: Record<string, unknown> = flags.config ? readConfigFile(flags.config) : {};
  return { ...config, ...givenFlags(flags) } as Partial<TrainConfigInput>;
}

/**
 * Names config fields as the user set them: the flag (`lr` → `--lr`) when given as one or when the
 * field has one, `lr in run.json` when it came from --config.
 */
export function fieldNames(
  flags: TrainFlags,
  options: readonly Option[],
  fromFile: Record<string, unknown>,
): { name: (path: string) => string; mention: (path: string) => string } {
  const flagOf = new Map(
    options
      .filter((o) => o.long && !NOT_CONFIG.has(o.attributeName()))
      .map((o) => [o.attributeName(), o.long]),
  );
  const given = givenFlags(flags);
  const split = (path: string) => {
    const [field = '', ...rest] = path.split('.');
    return { field, inner: rest.join('.') };
  };
  const mention = (path: string) => {
    const { field, inner } = split(path);
    const flag = flagOf.get(field);
    return flag ? `${flag}${inner ? ` (${inner})` : ''}` : path;
  };
  const name = (path: string) => {
    const { field } = split(path);
    if (!(field in given) && field in fromFile) return `${path} in ${flags.config}`;
    return mention(path);
  };
  return { name, mention };
}

/**
 * Trains as the flags say. `options` are the train command's (they name the flag of each config
 * field in errors).
 */
export async function runTrain(flags: TrainFlags, io: Io, options: readonly Option[] = []): Promise<number> {
  const input = configFromFlags(flags);
  const resume = flags.resume === true;
  let stopping = false;
  const removeHandler = io.onInterrupt(() => {
    if (stopping) {
      io.stderr('\nresnet: interrupted twice; exiting without a new checkpoint\n');
      process.exit(130);
    }
    stopping = true;
    io.stderr('\nresnet: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)\n');
  });
  let progress: TrainProgress | undefined;
  try {
    const trainOptions: TrainOptions = {
      outDir: flags.out,
      shouldStop: () => stopping,
      onEvent: (event) => {
        if (event.type === 'start') {
          progress = new TrainProgress(
            io,
            Math.round(event.totalSteps / event.stepsPerEpoch),
            Math.max(1, Math.round(event.stepsPerEpoch / 10)),
          );
        }
        progress?.handle(event);
      },
    };
    // A new run's config is complete or train names the missing fields; a resume may give none.
    let result: TrainResult;
    try {
      const runInput = resume && Object.keys(input).length === 0 ? undefined : input;
      // The run's config as train will take it (a resumed run's saved backend unless --backend is
      // given) chooses the backend, activated here: train runs on the active one.
      const config = await resolveRunConfig(runInput, { outDir: flags.out, resume });
      const { skipped } = await useTrainingBackend(config);
      const runOptions = { ...trainOptions, skippedBackends: skipped };
      result = resume
        ? await train(runInput, { ...runOptions, resume: true })
        : await train(input as TrainConfigInput, runOptions);
    } catch (error) {
      if (!(error instanceof ConfigError) || error.issues.length === 0) throw error;
      // Fields as the user set them: `--lr must be greater than 0`, not `lr: …`.
      const { name, mention } = fieldNames(flags, options, flags.config ? readConfigFile(flags.config) : {});
      throw new UsageError(error.describe(name, mention));
    }
    progress?.stop();
    const files = runFiles(flags.out);
    if (result.interrupted && !existsSync(files.checkpoint)) {
      io.stderr('resnet: stopped before training began; nothing to resume, the same command starts afresh\n');
      return 130;
    }
    if (result.interrupted) {
      io.stderr(
        `resnet: stopped; checkpoint in ${files.checkpoint}. Continue with: resnet train --resume --out ${flags.out}\n`,
      );
      return 130;
    }
    const last = result.history.at(-1);
    if (last?.val)
      io.stdout(
        `final validation: top-1 ${(last.val.top1 * 100).toFixed(2)}%, top-5 ${(last.val.top5 * 100).toFixed(2)}%, loss ${last.val.loss.toFixed(4)}\n`,
      );
    if (result.best)
      io.stdout(
        `best validation top-1 ${(result.best.top1 * 100).toFixed(2)}% at epoch ${result.best.epoch} (${files.best})\n`,
      );
    if (result.earlyStopped)
      io.stdout(`stopped early after ${result.history.length} epochs without improvement\n`);
    if (result.maxStepsReached)
      io.stdout(
        `stopped early at step ${result.steps} (--max-steps); the model and report are of that step. Continue with: resnet train --resume --out ${flags.out} --max-steps 0\n`,
      );
    io.stdout(
      `model: ${files.model}\nreport: ${files.report}\nlogs: ${files.metrics}, TensorBoard: ${files.tensorboard}\n`,
    );
    return 0;
  } finally {
    progress?.stop();
    removeHandler();
  }
}
