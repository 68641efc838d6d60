import { countParams } from '@resnet-ts/resnet-core';
import { batchSource } from './assemble';
import type { EpochRecord } from './checkpoint';
import type { FreezePoint, TrainConfigInput } from './config';
import { classCounts } from './data/dataset';
import { exportModel } from './export';
import { BatchLoader } from './loader';
import { learningRateCurve, writeReport } from './report';
import { type LoopOutcome, runLoop, scheduleOf, validate } from './run/loop';
import { EventForwarder, MetricsLog, TensorBoardLog, type TrainObserver } from './run/observers';
import { openRun, type RunContext } from './run/setup';

export { type RunFiles, runFiles } from './run/files';
export { RUNTIME_FIELDS } from './run/run-config';
export { resolveRunConfig } from './run/setup';

export type TrainEvent =
  | {
      type: 'start';
      backend: string;
      skippedBackends: string[];
      classes: string[];
      classCounts: number[];
      trainCount: number;
      valCount: number;
      params: number;
      /** Parameters the optimizer updates (all but the frozen ones). */
      trainableParams: number;
      /** Fine-tuning: the pretrained weights the run started from (also when resumed). */
      pretrained?: { dir: string; model: string; sha256?: string };
      /** The layers `freeze` keeps fixed: through which part, how many layers and parameters. */
      frozen?: { through: FreezePoint; layers: number; params: number };
      /** The classifier head's learning rate multiplier (`headLrMult`). */
      headLrMult: number;
      stepsPerEpoch: number;
      totalSteps: number;
      /** The run stops after this many steps in all (`maxSteps`). */
      maxSteps?: number;
      resumedFrom?: { epoch: number; batch: number; step: number };
    }
  | {
      type: 'step';
      epoch: number;
      batch: number;
      batches: number;
      step: number;
      loss: number;
      top1: number;
      lr: number;
      imagesPerSecond: number;
    }
  | EpochRecord
  | { type: 'checkpoint'; dir: string; epoch: number; batch: number; step: number }
  | { type: 'prepare'; done: number; total: number };

export interface TrainOptions {
  /** The run directory: checkpoint, logs, exported models and report go here. */
  outDir: string;
  /** Continue the run in `outDir` from its checkpoint. */
  resume?: boolean;
  onEvent?: (event: TrainEvent) => void;
  /** Checked after every step: true writes a checkpoint and returns (how Ctrl-C stops a run). */
  shouldStop?: () => boolean;
  /** What the application's `useBackend` skipped and why, reported in the start event. */
  skippedBackends?: string[];
}

export interface TrainResult {
  outDir: string;
  modelDir: string;
  history: EpochRecord[];
  /** Stopped by `shouldStop` before the last epoch; resume continues it. */
  interrupted: boolean;
  earlyStopped: boolean;
  /**
   * Stopped at `maxSteps` before the last epoch, with the checkpoint, final model and report
   * written; a resume with a larger `maxSteps` (or 0) continues the run.
   */
  maxStepsReached: boolean;
  /** Optimizer steps done in all. */
  steps: number;
  best?: { epoch: number; top1: number };
  reportFile?: string;
}

/** The start event: what the run trains, on what, from where. */
function startEvent(context: RunContext): TrainEvent {
  const { config, state, trainIndices, dataset, classes, model, frozenLayers } = context;
  const schedule = scheduleOf(context);
  return {
    type: 'start',
    backend: context.backend,
    skippedBackends: context.skippedBackends,
    classes,
    classCounts: classCounts({
      classes,
      labels: Int32Array.from(trainIndices, (i) => dataset.labels[i] as number),
    }),
    trainCount: trainIndices.length,
    valCount: context.valIndices.length,
    params: countParams(model).total,
    trainableParams: countParams(model).trainable,
    pretrained: config.pretrained
      ? { dir: config.pretrained, model: config.model, sha256: config.pretrainedSha256 }
      : undefined,
    frozen: config.freeze
      ? {
          through: config.freeze,
          layers: frozenLayers.length,
          params: frozenLayers.reduce((n, layer) => n + layer.countParams(), 0),
        }
      : undefined,
    headLrMult: config.headLrMult,
    stepsPerEpoch: schedule.stepsPerEpoch,
    totalSteps: schedule.totalSteps,
    maxSteps: config.maxSteps || undefined,
    resumedFrom: context.resuming ? { epoch: state.epoch, batch: state.batch, step: state.step } : undefined,
  };
}

/** A finished (not interrupted) run: the final model, and the report of the whole run. */
async function finishRun(context: RunContext, outcome: LoopOutcome, valLoader: BatchLoader): Promise<string> {
  const { config, files, model, classes, preprocessing, state, valDataset, valIndices } = context;
  await exportModel(files.model, model, classes, preprocessing, config);
  const validation = outcome.lastValidation ?? (await validate(context, valLoader));
  await writeReport(files.report, {
    config,
    classes,
    history: state.history,
    validation:
      validation && valDataset ? { ...validation, indices: valIndices, dataset: valDataset } : undefined,
    maxImages: config.reportImages,
    run: {
      backend: context.backend,
      params: countParams(model).total,
      trainImages: context.trainIndices.length,
      valImages: valIndices.length,
      earlyStopped: outcome.earlyStopped,
      learningRates: learningRateCurve(config.schedule, scheduleOf(context), state.step),
    },
  });
  return files.report;
}

/**
 * Trains a model as `config` describes, writing checkpoints, logs, exported models and a report
 * into `options.outDir`, on the active TensorFlow.js backend: the application chooses it first
 * (`useBackend` of @resnet-ts/backends), and `train` sets it up with the run's threads, convolution
 * layout and precision (`configureBackend`). The pure-JS cpu backend trains only when the config
 * names `backend: 'cpu'`. With `resume`, continues exactly where the checkpoint left off; then
 * `config` holds only what changes (runtime fields), or nothing. A run is opened (`openRun`), its
 * loop runs (`runLoop`) with the logs as observers, and a finished run exports its model and report.
 */
export async function train(input: TrainConfigInput, options: TrainOptions): Promise<TrainResult>;
export async function train(
  input: Partial<TrainConfigInput> | undefined,
  options: TrainOptions & { resume: true },
): Promise<TrainResult>;
export async function train(
  input: Partial<TrainConfigInput> | undefined,
  options: TrainOptions,
): Promise<TrainResult> {
  const emit = options.onEvent ?? (() => undefined);
  const context = await openRun(input, {
    outDir: options.outDir,
    resume: options.resume,
    onPrepare: (done, total) => emit({ type: 'prepare', done, total }),
    skippedBackends: options.skippedBackends,
  });
  const { config, files, state, dataset, valDataset } = context;
  const metricsLog = new MetricsLog(files.metrics, config.logEvery);
  const observers: TrainObserver[] = [
    metricsLog,
    new TensorBoardLog(files.tensorboard, config.logEvery),
    new EventForwarder(emit),
  ];
  // Worker threads start here, right before the try whose finally closes them.
  let loader: BatchLoader | undefined;
  let valLoader: BatchLoader | undefined;
  try {
    await metricsLog.resumeAt(state.step);
    emit(startEvent(context));
    const loaderOptions = { workers: config.workers, prefetch: config.prefetch };
    loader = new BatchLoader(batchSource(dataset), context.preprocessing, loaderOptions);
    valLoader =
      valDataset && valDataset !== dataset
        ? new BatchLoader(batchSource(valDataset), context.preprocessing, loaderOptions)
        : loader;
    const outcome = await runLoop(context, {
      loader,
      valLoader,
      observers,
      schedule: scheduleOf(context),
      shouldStop: options.shouldStop,
    });
    const reportFile = outcome.interrupted ? undefined : await finishRun(context, outcome, valLoader);
    return {
      outDir: options.outDir,
      modelDir: files.model,
      history: state.history,
      interrupted: outcome.interrupted,
      earlyStopped: outcome.earlyStopped,
      maxStepsReached: outcome.maxStepsReached,
      steps: state.step,
      best: state.best,
      reportFile,
    };
  } finally {
    await loader?.close();
    if (valLoader && valLoader !== loader) await valLoader.close();
    context.optimizer.dispose();
    context.model.dispose();
  }
}
