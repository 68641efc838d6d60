import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { countParams } from '@resnet-ts/resnet-core';
import type * as tf from '@tensorflow/tfjs-core';
import { batchSource, type Preprocessing } from './assemble';
import {
  applyConvLayout,
  applyPrecision,
  type BackendChoice,
  BackendError,
  loadOptional,
  NoFastBackendError,
  useBackend,
} from './backend';
import {
  type EpochRecord,
  hasCheckpoint,
  loadCheckpoint,
  type SplitMetrics,
  saveCheckpoint,
  type TrainState,
} from './checkpoint';
import {
  ConfigError,
  type FreezePoint,
  parseTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
} from './config';
import { describeCpuCost, estimateCpuTraining } from './cpu-cost';
import { classCounts, type ImageDataset } from './data/dataset';
import { datasetFingerprint } from './data/fingerprint';
import { openDataset } from './data/open';
import { epochOrder, runSubset, stratifiedSplit } from './data/split';
import { evaluate } from './evaluate';
import { exportModel } from './export';
import { readJson, writeFileAtomic } from './files';
import { BatchLoader, toBatches } from './loader';
import { ClassificationMetrics } from './metrics';
import { buildModel } from './models';
import { Optimizer, type OptimizerConfig } from './optim';
import { reopenOptions, resolvePreprocessing } from './preprocess';
import {
  applyPretrained,
  checkFreeze,
  freezeLayers,
  isHeadWeight,
  loadPretrained,
  type PretrainedModel,
  pretrainedImageSize,
  pretrainedNormalization,
} from './pretrained';
import { learningRateCurve, writeReport } from './report';
import { learningRate } from './schedule';
import { trainStep } from './step';
import { TrainingTensorBoard } from './tensorboard';

/**
 * Fields that may change when a run is resumed; everything else must stay as it was. `data` and
 * `valData` say where the data is (it may have moved with the run); resume checks that the classes
 * and the validation split they give are the run's own.
 */
export const RUNTIME_FIELDS = [
  'data',
  'valData',
  'epochs',
  'workers',
  'prefetch',
  'backend',
  'threads',
  'convLayout',
  'precision',
  'logEvery',
  'cacheDir',
  'earlyStopping',
  'reportImages',
  'maxSteps',
] as const;

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

interface RunFiles {
  config: string;
  labels: string;
  preprocessing: string;
  split: string;
  checkpoint: string;
  metrics: string;
  tensorboard: string;
  model: string;
  best: string;
  report: string;
}

export function runFiles(outDir: string): RunFiles {
  return {
    config: path.join(outDir, 'config.json'),
    labels: path.join(outDir, 'labels.json'),
    preprocessing: path.join(outDir, 'preprocessing.json'),
    split: path.join(outDir, 'split.json'),
    checkpoint: path.join(outDir, 'checkpoint'),
    metrics: path.join(outDir, 'logs', 'metrics.jsonl'),
    tensorboard: path.join(outDir, 'logs', 'tensorboard'),
    model: path.join(outDir, 'model'),
    best: path.join(outDir, 'best'),
    report: path.join(outDir, 'report.html'),
  };
}

function optimizerConfig(config: TrainConfig): OptimizerConfig {
  const shared = { weightDecay: config.weightDecay, decayAll: config.decayAll };
  return config.optimizer === 'sgd'
    ? { name: 'sgd', momentum: config.momentum, nesterov: config.nesterov, ...shared }
    : { name: config.optimizer, ...shared };
}

/** The config of a resumed run: the saved one, with only runtime fields taken from `input`. */
async function resumedConfig(
  files: RunFiles,
  input: Partial<TrainConfigInput> | undefined,
): Promise<TrainConfig> {
  const saved = parseTrainConfig(await readJson(files.config));
  if (!input) return saved;
  const given = parseTrainConfig({ ...saved, ...input });
  const changed = (Object.keys(input) as (keyof TrainConfig)[]).filter(
    (key) =>
      !(RUNTIME_FIELDS as readonly string[]).includes(key) &&
      JSON.stringify(given[key]) !== JSON.stringify(saved[key]),
  );
  if (changed.length > 0) {
    throw new ConfigError(
      changed.map((key) => ({
        path: key,
        message: `must stay ${saved[key] === undefined ? 'unset' : JSON.stringify(saved[key])} in a resumed run`,
      })),
      (problems, name) =>
        `${problems} (a resumed run may change only ${RUNTIME_FIELDS.map(name).join(', ')})`,
    );
  }
  return given;
}

/** A new run's config; under `resume` (nothing to resume yet) a bad one says that it would start anew. */
function newRunConfig(input: Partial<TrainConfigInput> | undefined, options: TrainOptions): TrainConfig {
  try {
    return parseTrainConfig(input);
  } catch (error) {
    if (!options.resume || !(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.issues,
      (problems) =>
        `${options.outDir}: no checkpoint to resume, and a new run there needs a complete config (${problems})`,
    );
  }
}

interface DataFingerprint {
  data: string;
  valData?: string;
}

/** What the run trains and validates on, wherever it lies (see datasetFingerprint). */
async function fingerprintOf(
  dataset: ImageDataset,
  valDataset: ImageDataset | undefined,
): Promise<DataFingerprint> {
  return {
    data: await datasetFingerprint(dataset),
    ...(valDataset && valDataset !== dataset ? { valData: await datasetFingerprint(valDataset) } : {}),
  };
}

const splitMetrics = (m: ClassificationMetrics): SplitMetrics => m.summary();

/**
 * Trains a model as `config` describes, writing checkpoints, logs, exported models and a report
 * into `options.outDir`. With `resume`, continues exactly where the checkpoint left off; then
 * `config` holds only what changes (runtime fields), or nothing.
 */
/**
 * The run's backend. `auto` never ends on the pure-JS cpu backend here: training there takes days,
 * so the error says what is missing, how to fix it and what cpu would cost, and cpu trains only
 * when named.
 */
async function chooseTrainingBackend(config: TrainConfig): Promise<{ backend: string; skipped: string[] }> {
  try {
    return await useBackend(config.backend as BackendChoice, { allowSlowCpu: false });
  } catch (error) {
    if (!(error instanceof NoFastBackendError)) throw error;
    const model = config.model;
    const cost = model ? await estimateCpuTraining({ ...config, model }).catch(() => undefined) : undefined;
    throw new BackendError(
      `${error.message}. The pure-JS cpu backend would take ${cost ? describeCpuCost(cost) : 'far longer (its cost could not be measured)'}; choose backend cpu (--backend cpu) to train on it anyway`,
    );
  }
}

export async function train(input: TrainConfigInput, options: TrainOptions): Promise<TrainResult>;
export async function train(
  input: Partial<TrainConfigInput> | undefined,
  options: TrainOptions & { resume: true },
): Promise<TrainResult>;
export async function train(
  input: Partial<TrainConfigInput> | undefined,
  options: TrainOptions,
): Promise<TrainResult> {
  const files = runFiles(options.outDir);
  const resuming = options.resume === true && (await hasCheckpoint(files.checkpoint));
  if (options.resume && !resuming && !input) {
    throw new ConfigError(`${options.outDir}: no checkpoint to resume and no config to start from`);
  }
  if (!options.resume && (await hasCheckpoint(files.checkpoint))) {
    throw new ConfigError(
      `${options.outDir}: already holds a run; resume it (resume / --resume) or choose another output directory`,
    );
  }
  let config = resuming ? await resumedConfig(files, input) : newRunConfig(input, options);
  const emit = options.onEvent ?? (() => undefined);

  const { backend, skipped } = await chooseTrainingBackend(config);
  if (config.threads && backend === 'onednn') {
    const onednn = (await loadOptional('@resnet-ts/tfjs-backend-onednn')) as {
      setThreads: (n: number) => void;
    };
    onednn.setThreads(config.threads);
  }
  await applyConvLayout(config.convLayout);
  await applyPrecision(config.precision);

  // Fine-tuning: the architecture, input size and (below) normalisation come from the pretrained
  // model, and are recorded in the run's config with its weights' SHA-256. A resumed run takes
  // every weight from its checkpoint and does not read the pretrained model again.
  let pretrained: PretrainedModel | undefined;
  if (config.pretrained && !resuming) {
    pretrained = await loadPretrained(config.pretrained, {
      model: config.model,
      modelOptions: config.modelOptions,
      sha256: config.pretrainedSha256,
    });
    config = {
      ...config,
      model: pretrained.model,
      modelOptions: pretrained.modelOptions,
      imageSize: config.imageSize ?? pretrainedImageSize(pretrained),
      pretrainedSha256: pretrained.sha256,
    };
  }
  const modelName = config.model;
  if (modelName === undefined) throw new ConfigError([{ path: 'model', message: 'is required' }]);
  checkFreeze(config.freeze, modelName, config.modelOptions);

  const savedPreprocessing = resuming ? await readJson<Preprocessing>(files.preprocessing) : undefined;
  const reopen = savedPreprocessing
    ? reopenOptions(savedPreprocessing, config.imageSize)
    : { imageSize: config.imageSize };
  const opened = await openDataset(config.data, {
    ...reopen,
    cacheDir: config.cacheDir,
    onProgress: (done, total) => emit({ type: 'prepare', done, total }),
  });
  const dataset: ImageDataset = runSubset(opened.train, config);
  let trainIndices: Int32Array;
  let valIndices: Int32Array;
  let valDataset: ImageDataset | undefined;
  if (config.valData || opened.heldOutRole === 'validation') {
    // An explicit validation folder, or the val/ half of a train/val tree, replaces the split.
    valDataset = config.valData
      ? (await openDataset(config.valData, { ...reopen, cacheDir: config.cacheDir })).train
      : (opened.heldOut as ImageDataset);
    if (JSON.stringify(valDataset.classes) !== JSON.stringify(dataset.classes)) {
      throw new ConfigError([
        {
          path: 'valData',
          message: `has other classes (${valDataset.classes.join(', ')}) than the training data (${dataset.classes.join(', ')})`,
        },
      ]);
    }
    trainIndices = Int32Array.from(dataset.labels.keys());
    valIndices = Int32Array.from(valDataset.labels.keys());
  } else {
    ({ train: trainIndices, validation: valIndices } = stratifiedSplit(
      dataset.labels,
      config.valSplit,
      config.seed,
      dataset.classes,
    ));
    valDataset = valIndices.length > 0 ? dataset : undefined;
  }
  const classes = dataset.classes;
  if (resuming) {
    const saved = await readJson<{ validation: number[]; fingerprint?: DataFingerprint }>(files.split);
    const savedClasses = await readJson<string[]>(files.labels);
    // Runs made before split.json held a fingerprint are checked by classes and split alone.
    const fingerprint = saved.fingerprint ? await fingerprintOf(dataset, valDataset) : undefined;
    if (
      JSON.stringify(savedClasses) !== JSON.stringify(classes) ||
      JSON.stringify(saved.validation) !== JSON.stringify(Array.from(valIndices)) ||
      (fingerprint && JSON.stringify(fingerprint) !== JSON.stringify(saved.fingerprint))
    ) {
      throw new ConfigError([
        {
          path: 'data',
          message: `${config.data} is not the data this run started with (its classes, images or split differ); resuming would mix validation images into training`,
        },
      ]);
    }
  }
  const preprocessing: Preprocessing =
    savedPreprocessing ??
    (pretrained && config.normalization === undefined
      ? pretrainedNormalization(
          // The pretrained model's normalisation replaces the default (computing none here).
          resolvePreprocessing({ ...config, normalization: 'none' }, dataset, trainIndices),
          pretrained,
        )
      : resolvePreprocessing(config, dataset, trainIndices));

  const model = buildModel({
    model: modelName,
    numClasses: classes.length,
    inputSize: preprocessing.inputSize,
    seed: config.seed,
    options: config.modelOptions,
  });
  try {
    // Every weight but the new head's (seeded like the builder's, for these classes) is the
    // pretrained one; a resumed run overwrites them all from its checkpoint below.
    if (pretrained) applyPretrained(model, pretrained);
  } catch (error) {
    model.dispose();
    throw error;
  }
  pretrained = undefined; // its weights are in the model now: let them go
  const frozenLayers = freezeLayers(model, config.freeze);
  const parameters = model.trainableWeights.map((w) => ({
    name: w.originalName,
    variable: w.read() as tf.Variable,
    ...(config.headLrMult !== 1 && isHeadWeight(w.originalName) ? { lrMult: config.headLrMult } : {}),
  }));
  const optimizer = new Optimizer(optimizerConfig(config), parameters);

  let state: TrainState = {
    version: 1,
    epoch: 0,
    batch: 0,
    step: 0,
    history: [],
    epochsWithoutImprovement: 0,
  };
  if (resuming) {
    try {
      state = await loadCheckpoint(files.checkpoint, model, optimizer);
    } catch (error) {
      model.dispose();
      optimizer.dispose();
      throw error;
    }
    // The changed runtime fields hold from now on (a later plain --resume keeps the new --epochs).
    if (input) await writeFileAtomic(files.config, JSON.stringify(config, null, 2));
  } else {
    await mkdir(options.outDir, { recursive: true });
    await writeFileAtomic(files.config, JSON.stringify(config, null, 2));
    await writeFileAtomic(files.labels, JSON.stringify(classes, null, 1));
    await writeFileAtomic(files.preprocessing, JSON.stringify(preprocessing));
    await writeFileAtomic(
      files.split,
      JSON.stringify({
        valSplit: config.valSplit,
        seed: config.seed,
        validation: Array.from(valIndices),
        fingerprint: await fingerprintOf(dataset, valDataset),
      }),
    );
    await mkdir(path.dirname(files.metrics), { recursive: true });
    await writeFile(files.metrics, '');
  }
  await dropLogLinesAfter(files.metrics, state.step);

  const stepsPerEpoch = Math.ceil(trainIndices.length / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const scheduleContext = {
    baseLr: config.lr,
    totalSteps,
    stepsPerEpoch,
    warmupSteps: Math.round(config.warmupEpochs * stepsPerEpoch),
  };
  const numClasses = classes.length;
  const [height, width] = preprocessing.inputSize;
  const tensorboard = new TrainingTensorBoard(files.tensorboard);
  const log = (line: object) => appendFile(files.metrics, `${JSON.stringify(line)}\n`);

  emit({
    type: 'start',
    backend,
    skippedBackends: skipped,
    classes,
    classCounts: classCounts({
      classes,
      labels: Int32Array.from(trainIndices, (i) => dataset.labels[i] as number),
    }),
    trainCount: trainIndices.length,
    valCount: valIndices.length,
    params: countParams(model).total,
    trainableParams: countParams(model).trainable,
    pretrained: config.pretrained
      ? { dir: config.pretrained, model: modelName, sha256: config.pretrainedSha256 }
      : undefined,
    frozen: config.freeze
      ? {
          through: config.freeze,
          layers: frozenLayers.length,
          params: frozenLayers.reduce((n, layer) => n + layer.countParams(), 0),
        }
      : undefined,
    headLrMult: config.headLrMult,
    stepsPerEpoch,
    totalSteps,
    maxSteps: config.maxSteps || undefined,
    resumedFrom: resuming ? { epoch: state.epoch, batch: state.batch, step: state.step } : undefined,
  });

  // Worker threads start here, right before the try whose finally closes them.
  const workers = config.workers;
  const loader = new BatchLoader(batchSource(dataset), preprocessing, { workers, prefetch: config.prefetch });
  const valLoader =
    valDataset && valDataset !== dataset
      ? new BatchLoader(batchSource(valDataset), preprocessing, { workers, prefetch: config.prefetch })
      : loader;
  let interrupted = false;
  let earlyStopped = false;
  let maxStepsReached = false;
  const atMaxSteps = () =>
    config.maxSteps !== undefined && config.maxSteps > 0 && state.step >= config.maxSteps;
  let lastValidation: Awaited<ReturnType<typeof evaluate>> | undefined;
  const vars = parameters.map((p) => p.variable);
  try {
    // Stopped before the first step (Ctrl-C while the data was being prepared): nothing to save,
    // and a new run leaves no checkpoint, so the same command starts it afresh.
    if (options.shouldStop?.()) interrupted = true;
    while (!interrupted && state.epoch < config.epochs && !earlyStopped && !atMaxSteps()) {
      const epoch = state.epoch;
      const batches = toBatches(
        Int32Array.from(
          epochOrder(trainIndices.length, config.seed, epoch),
          (k) => trainIndices[k] as number,
        ),
        config.batchSize,
      );
      const metrics = state.partial
        ? ClassificationMetrics.fromJSON(numClasses, state.partial.metrics)
        : new ClassificationMetrics(numClasses);
      let seconds = state.partial?.seconds ?? 0;
      let dataWait = state.partial?.dataWaitSeconds ?? 0;
      let lr = learningRate(config.schedule, state.step, scheduleContext);
      let timer = performance.now();
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
      const stream = loader.batches(batches.slice(state.batch), 'train', config.seed, epoch, mixing);
      for (;;) {
        const waitStart = performance.now();
        const next = await stream.next();
        dataWait += (performance.now() - waitStart) / 1000;
        if (next.done) break;
        const batch = batches[state.batch] as Int32Array;
        const labels = Int32Array.from(batch, (i) => dataset.labels[i] as number);
        lr = learningRate(config.schedule, state.step, scheduleContext);
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
        const stepSeconds = (performance.now() - stepStart) / 1000;
        emit({
          type: 'step',
          epoch,
          batch: state.batch,
          batches: batches.length,
          step: state.step,
          loss,
          top1: metrics.top1 / metrics.count,
          lr,
          imagesPerSecond: labels.length / stepSeconds,
        });
        if (state.step % config.logEvery === 0) {
          await log({ type: 'step', epoch, step: state.step, loss, lr });
          tensorboard.step(state.step, { loss, lr });
        }
        // Ctrl-C, or the step limit mid-epoch: a checkpoint of the unfinished epoch.
        const stopping = options.shouldStop?.() === true;
        if ((stopping || atMaxSteps()) && state.batch < batches.length) {
          seconds += (performance.now() - timer) / 1000;
          state.partial = { metrics: metrics.toJSON(), seconds, dataWaitSeconds: dataWait };
          await saveCheckpoint(files.checkpoint, model, optimizer, state);
          emit({ type: 'checkpoint', dir: files.checkpoint, epoch, batch: state.batch, step: state.step });
          interrupted = stopping;
          await stream.return(undefined);
          break;
        }
      }
      if (interrupted || atMaxSteps()) break;
      seconds += (performance.now() - timer) / 1000;
      const trainSeconds = seconds;
      timer = performance.now();
      let val: SplitMetrics | undefined;
      if (valDataset && valIndices.length > 0) {
        lastValidation = await evaluate(model, valLoader, preprocessing, valDataset.labels, valIndices, {
          batchSize: config.batchSize,
          numClasses,
          scores: 'logits',
        });
        val = splitMetrics(lastValidation.metrics);
      }
      seconds += (performance.now() - timer) / 1000;
      const record: EpochRecord = {
        type: 'epoch',
        epoch: epoch + 1,
        step: state.step,
        lr,
        train: splitMetrics(metrics),
        val,
        seconds,
        imagesPerSecond: metrics.count / Math.max(1e-9, trainSeconds),
        dataWaitSeconds: dataWait,
        dataWaitShare: dataWait / Math.max(1e-9, trainSeconds),
      };
      state.history.push(record);
      await log(record);
      tensorboard.epoch(record);
      emit(record);
      if (val && (!state.best || val.top1 > state.best.top1)) {
        state.best = { epoch: epoch + 1, top1: val.top1 };
        state.epochsWithoutImprovement = 0;
        await exportModel(files.best, model, classes, preprocessing, config);
      } else if (val) {
        state.epochsWithoutImprovement++;
        if (config.earlyStopping && state.epochsWithoutImprovement >= config.earlyStopping)
          earlyStopped = true;
      }
      state.epoch++;
      state.batch = 0;
      state.partial = undefined;
      await saveCheckpoint(files.checkpoint, model, optimizer, state);
      emit({ type: 'checkpoint', dir: files.checkpoint, epoch: state.epoch, batch: 0, step: state.step });
      // A stop asked for during validation ends here, on the epoch's checkpoint, not a step later.
      if (options.shouldStop?.() && state.epoch < config.epochs && !earlyStopped) interrupted = true;
    }
    // The step limit (reached now, or by the run resumed) ends a run early, as its last epoch would.
    maxStepsReached = !interrupted && !earlyStopped && state.epoch < config.epochs && atMaxSteps();
    if (maxStepsReached) {
      await log({ type: 'stop', reason: 'maxSteps', maxSteps: config.maxSteps, step: state.step });
    }
    let reportFile: string | undefined;
    if (!interrupted) {
      await exportModel(files.model, model, classes, preprocessing, config);
      if (!lastValidation && valDataset && valIndices.length > 0) {
        lastValidation = await evaluate(model, valLoader, preprocessing, valDataset.labels, valIndices, {
          batchSize: config.batchSize,
          numClasses,
          scores: 'logits',
        });
      }
      reportFile = files.report;
      await writeReport(reportFile, {
        config,
        classes,
        history: state.history,
        validation:
          lastValidation && valDataset
            ? { ...lastValidation, indices: valIndices, dataset: valDataset }
            : undefined,
        maxImages: config.reportImages,
        run: {
          backend,
          params: countParams(model).total,
          trainImages: trainIndices.length,
          valImages: valIndices.length,
          earlyStopped,
          learningRates: learningRateCurve(config.schedule, scheduleContext, state.step),
        },
      });
    }
    return {
      outDir: options.outDir,
      modelDir: files.model,
      history: state.history,
      interrupted,
      earlyStopped,
      maxStepsReached,
      steps: state.step,
      best: state.best,
      reportFile,
    };
  } finally {
    await loader.close();
    if (valLoader !== loader) await valLoader.close();
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Drops log lines written after the checkpoint a run resumes from (they will be written again), and
 * the line of an earlier stop at `maxSteps` (the run goes on, or stops there again and says so).
 */
async function dropLogLinesAfter(file: string, step: number): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const kept = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        const entry = JSON.parse(line) as { type?: string; step: number };
        return entry.step <= step && entry.type !== 'stop';
      } catch {
        return false; // a torn last line
      }
    });
  await writeFileAtomic(file, kept.map((l) => `${l}\n`).join(''));
}
