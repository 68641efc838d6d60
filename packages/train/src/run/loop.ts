import { type SplitMetrics, saveCheckpoint } from '../checkpoint';
import { epochOrder } from '../data/split';
import { evaluate } from '../evaluate';
import { exportModel } from '../export';
import { type BatchLoader, toBatches } from '../loader';
import { ClassificationMetrics } from '../metrics';
import { learningRate, type ScheduleContext } from '../schedule';
import { trainStep } from '../step';
import { notify, type TrainObserver } from './observers';
import type { RunContext } from './setup';

export type Validation = Awaited<ReturnType<typeof evaluate>>;

/** How the loop ended, and the last validation (for the report). */
export interface LoopOutcome {
  interrupted: boolean;
  earlyStopped: boolean;
  maxStepsReached: boolean;
  lastValidation: Validation | undefined;
}

export interface LoopOptions {
  loader: BatchLoader;
  valLoader: BatchLoader;
  observers: readonly TrainObserver[];
  schedule: ScheduleContext;
  /** Checked after every step: true writes a checkpoint and ends the loop. */
  shouldStop?: () => boolean;
}

const splitMetrics = (m: ClassificationMetrics): SplitMetrics => m.summary();

/** The schedule's fixed numbers for a run. */
export function scheduleOf(context: RunContext): ScheduleContext {
  const { config, trainIndices } = context;
  const stepsPerEpoch = Math.ceil(trainIndices.length / config.batchSize);
  return {
    baseLr: config.lr,
    totalSteps: stepsPerEpoch * config.epochs,
    stepsPerEpoch,
    warmupSteps: Math.round(config.warmupEpochs * stepsPerEpoch),
  };
}

const atMaxSteps = (context: RunContext) =>
  context.config.maxSteps !== undefined &&
  context.config.maxSteps > 0 &&
  context.state.step >= context.config.maxSteps;

/** Validation of the current weights, or undefined for a run without validation images. */
export async function validate(context: RunContext, valLoader: BatchLoader): Promise<Validation | undefined> {
  const { valDataset, valIndices, config, preprocessing, classes } = context;
  if (!valDataset || valIndices.length === 0) return undefined;
  return evaluate(context.model, valLoader, preprocessing, valDataset.labels, valIndices, {
    batchSize: config.batchSize,
    numClasses: classes.length,
    scores: 'logits',
  });
}

/** What one epoch's training part ended with. */
interface EpochTraining {
  metrics: ClassificationMetrics;
  lr: number;
  /** Seconds of training (and data waiting) in this epoch, a resumed part included. */
  seconds: number;
  dataWait: number;
  /** Stopped mid-epoch (Ctrl-C or the step limit), with a checkpoint of the unfinished epoch. */
  cut: boolean;
  interrupted: boolean;
}

/** The steps of the current epoch from where the state stands. */
async function trainEpoch(context: RunContext, options: LoopOptions): Promise<EpochTraining> {
  const { config, state, dataset, trainIndices, files, model, optimizer } = context;
  const numClasses = context.classes.length;
  const [height, width] = context.preprocessing.inputSize;
  const vars = context.parameters.map((p) => p.variable);
  const epoch = state.epoch;
  const batches = toBatches(
    Int32Array.from(epochOrder(trainIndices.length, config.seed, epoch), (k) => trainIndices[k] as number),
    config.batchSize,
  );
  const metrics = state.partial
    ? ClassificationMetrics.fromJSON(numClasses, state.partial.metrics)
    : new ClassificationMetrics(numClasses);
  let seconds = state.partial?.seconds ?? 0;
  let dataWait = state.partial?.dataWaitSeconds ?? 0;
  let lr = learningRate(config.schedule, state.step, options.schedule);
  const timer = performance.now();
  const mixing =
    config.mixup || config.cutmix
      ? {
          mixup: config.mixup,
          cutmix: config.cutmix,
          classes: numClasses,
          labels: dataset.labels,
          firstBatch: state.batch,
        }
      : undefined;
  const stream = options.loader.batches(batches.slice(state.batch), 'train', config.seed, epoch, mixing);
  for (;;) {
    const waitStart = performance.now();
    const next = await stream.next();
    dataWait += (performance.now() - waitStart) / 1000;
    if (next.done) break;
    const batch = batches[state.batch] as Int32Array;
    const labels = Int32Array.from(batch, (i) => dataset.labels[i] as number);
    lr = learningRate(config.schedule, state.step, options.schedule);
    const stepStart = performance.now();
    const { loss, scores } = trainStep(
      model,
      optimizer,
      vars,
      next.value.x,
      labels,
      [height, width],
      numClasses,
      config.labelSmoothing,
      lr,
      next.value.targets,
    );
    // Under MixUp/CutMix, top-1 counts the dominant (original) label.
    metrics.add(scores, labels, loss * labels.length);
    if (!Number.isFinite(loss)) {
      throw new Error(
        `epoch ${epoch + 1}, step ${state.step + 1}: loss is ${loss} at lr ${lr}; a resumed run would repeat this, so start a new run with a lower learning rate`,
      );
    }
    state.batch++;
    state.step++;
    await notify(options.observers, 'step', {
      type: 'step',
      epoch,
      batch: state.batch,
      batches: batches.length,
      step: state.step,
      loss,
      top1: metrics.top1 / metrics.count,
      lr,
      imagesPerSecond: labels.length / ((performance.now() - stepStart) / 1000),
    });
    // Ctrl-C, or the step limit mid-epoch: a checkpoint of the unfinished epoch.
    const stopping = options.shouldStop?.() === true;
    if ((stopping || atMaxSteps(context)) && state.batch < batches.length) {
      seconds += (performance.now() - timer) / 1000;
      state.partial = { metrics: metrics.toJSON(), seconds, dataWaitSeconds: dataWait };
      await saveCheckpoint(files.checkpoint, model, optimizer, state);
      await notify(options.observers, 'checkpoint', {
        type: 'checkpoint',
        dir: files.checkpoint,
        epoch,
        batch: state.batch,
        step: state.step,
      });
      await stream.return(undefined);
      return { metrics, lr, seconds, dataWait, cut: true, interrupted: stopping };
    }
  }
  seconds += (performance.now() - timer) / 1000;
  return { metrics, lr, seconds, dataWait, cut: false, interrupted: false };
}

/**
 * Ends an epoch: validation, its record to the observers, the best model so far, early stopping, and
 * the epoch's checkpoint. Returns the validation and whether early stopping ends the run.
 */
async function endEpoch(
  context: RunContext,
  trained: EpochTraining,
  options: LoopOptions,
): Promise<{ validation: Validation | undefined; earlyStopped: boolean }> {
  const { state, config, files, model, optimizer } = context;
  const epoch = state.epoch;
  const trainSeconds = trained.seconds;
  const timer = performance.now();
  const validation = await validate(context, options.valLoader);
  const val = validation ? splitMetrics(validation.metrics) : undefined;
  const seconds = trainSeconds + (performance.now() - timer) / 1000;
  const record = {
    type: 'epoch' as const,
    epoch: epoch + 1,
    step: state.step,
    lr: trained.lr,
    train: splitMetrics(trained.metrics),
    val,
    seconds,
    imagesPerSecond: trained.metrics.count / Math.max(1e-9, trainSeconds),
    dataWaitSeconds: trained.dataWait,
    dataWaitShare: trained.dataWait / Math.max(1e-9, trainSeconds),
  };
  state.history.push(record);
  await notify(options.observers, 'epoch', record);
  let earlyStopped = false;
  if (val && (!state.best || val.top1 > state.best.top1)) {
    state.best = { epoch: epoch + 1, top1: val.top1 };
    state.epochsWithoutImprovement = 0;
    await exportModel(files.best, model, context.classes, context.preprocessing, config);
  } else if (val) {
    state.epochsWithoutImprovement++;
    if (config.earlyStopping && state.epochsWithoutImprovement >= config.earlyStopping) earlyStopped = true;
  }
  state.epoch++;
  state.batch = 0;
  state.partial = undefined;
  await saveCheckpoint(files.checkpoint, model, optimizer, state);
  await notify(options.observers, 'checkpoint', {
    type: 'checkpoint',
    dir: files.checkpoint,
    epoch: state.epoch,
    batch: 0,
    step: state.step,
  });
  return { validation, earlyStopped };
}

/** Epochs until the last, early stopping, the step limit, or a stop asked for. */
export async function runLoop(context: RunContext, options: LoopOptions): Promise<LoopOutcome> {
  const { state, config } = context;
  let interrupted = false;
  let earlyStopped = false;
  let lastValidation: Validation | undefined;
  // Stopped before the first step (Ctrl-C while the data was being prepared): nothing to save,
  // and a new run leaves no checkpoint, so the same command starts it afresh.
  if (options.shouldStop?.()) interrupted = true;
  while (!interrupted && state.epoch < config.epochs && !earlyStopped && !atMaxSteps(context)) {
    const trained = await trainEpoch(context, options);
    interrupted = trained.interrupted;
    if (trained.cut) break;
    const ended = await endEpoch(context, trained, options);
    lastValidation = ended.validation ?? lastValidation;
    earlyStopped = ended.earlyStopped;
    // A stop asked for during validation ends here, on the epoch's checkpoint, not a step later.
    if (options.shouldStop?.() && state.epoch < config.epochs && !earlyStopped) interrupted = true;
  }
  // The step limit (reached now, or by the run resumed) ends a run early, as its last epoch would.
  const maxStepsReached = !interrupted && !earlyStopped && state.epoch < config.epochs && atMaxSteps(context);
  if (maxStepsReached) {
    await notify(options.observers, 'stop', {
      type: 'stop',
      reason: 'maxSteps',
      maxSteps: config.maxSteps,
      step: state.step,
    });
  }
  return { interrupted, earlyStopped, maxStepsReached, lastValidation };
}
