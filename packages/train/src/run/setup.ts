import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BackendError, backendName, configureBackend } from '@resnet-ts/backends';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Preprocessing } from '../assemble';
import { hasCheckpoint, loadCheckpoint, type TrainState } from '../checkpoint';
import { ConfigError, type TrainConfig, type TrainConfigInput } from '../config';
import { refuseCpuTraining } from '../cpu-cost';
import type { ImageDataset } from '../data/dataset';
import { datasetFingerprint } from '../data/fingerprint';
import { openDataset } from '../data/open';
import { runSubset, stratifiedSplit } from '../data/split';
import { readJson, writeFileAtomic } from '../files';
import { buildModel } from '../models';
import { Optimizer, type OptimizerConfig, type Parameter } from '../optim';
import { reopenOptions, resolvePreprocessing } from '../preprocess';
import {
  applyPretrained,
  checkFreeze,
  freezeLayers,
  isHeadWeight,
  loadPretrained,
  type PretrainedModel,
  pretrainedImageSize,
  pretrainedNormalization,
} from '../pretrained';
import { type RunFiles, runFiles } from './files';
import { newRunConfig, resumedConfig } from './run-config';

/** Everything a run's loop needs, opened (new) or restored (resumed) by {@link openRun}. */
export interface RunContext {
  config: TrainConfig & { model: string };
  files: RunFiles;
  outDir: string;
  resuming: boolean;
  backend: string;
  skippedBackends: string[];
  dataset: ImageDataset;
  /** The validation images' dataset: `dataset` itself for a split, or a separate one. */
  valDataset: ImageDataset | undefined;
  trainIndices: Int32Array;
  valIndices: Int32Array;
  classes: string[];
  preprocessing: Preprocessing;
  model: tfl.LayersModel;
  optimizer: Optimizer;
  parameters: Parameter[];
  frozenLayers: tfl.layers.Layer[];
  state: TrainState;
}

export interface OpenRunOptions {
  outDir: string;
  resume?: boolean;
  /** Progress of preparing the data (decoding into the cache). */
  onPrepare?: (done: number, total: number) => void;
  /** What the application's `useBackend` skipped before taking the active backend (for the start event). */
  skippedBackends?: string[];
}

/** What the run trains and validates on, wherever it lies (see datasetFingerprint). */
interface DataFingerprint {
  data: string;
  valData?: string;
}

async function fingerprintOf(
  dataset: ImageDataset,
  valDataset: ImageDataset | undefined,
): Promise<DataFingerprint> {
  return {
    data: await datasetFingerprint(dataset),
    ...(valDataset && valDataset !== dataset ? { valData: await datasetFingerprint(valDataset) } : {}),
  };
}

function optimizerConfig(config: TrainConfig): OptimizerConfig {
  const shared = { weightDecay: config.weightDecay, decayAll: config.decayAll };
  return config.optimizer === 'sgd'
    ? { name: 'sgd', momentum: config.momentum, nesterov: config.nesterov, ...shared }
    : { name: config.optimizer, ...shared };
}

/**
 * The run's backend: the active one, which the application chose (`useBackend` of
 * @resnet-ts/backends; `resnet train --backend`), set up with the run's threads, convolution layout
 * and precision through its capabilities. A run that names a backend must run on it; and the pure-JS
 * cpu backend trains only when named (it takes days): otherwise the error says what is missing, how
 * to fix it and what cpu would cost.
 */
async function prepareBackend(config: TrainConfig): Promise<string> {
  const backend = tf.getBackend();
  if (config.backend !== 'auto' && backendName(config.backend) !== backend) {
    throw new BackendError(
      `backend: the run names ${config.backend}, but the active TensorFlow.js backend is ${backend}; activate it before training (useBackend('${config.backend}') from @resnet-ts/backends; resnet train does for --backend)`,
    );
  }
  if (backend === 'cpu' && config.backend !== 'cpu') throw await refuseCpuTraining(config);
  await configureBackend({
    threads: config.threads,
    convLayout: config.convLayout,
    precision: config.precision,
  });
  return backend;
}

/**
 * Fine-tuning: the architecture, input size (and later normalisation) come from the pretrained
 * model and are recorded in the run's config with its weights' SHA-256. A resumed run takes every
 * weight from its checkpoint and does not read the pretrained model again.
 */
async function takePretrained(
  config: TrainConfig,
  resuming: boolean,
): Promise<{ config: TrainConfig & { model: string }; pretrained?: PretrainedModel }> {
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
  const model = config.model;
  if (model === undefined) throw new ConfigError([{ path: 'model', message: 'is required' }]);
  checkFreeze(config.freeze, model, config.modelOptions);
  return { config: { ...config, model }, pretrained };
}

interface RunData {
  dataset: ImageDataset;
  valDataset: ImageDataset | undefined;
  trainIndices: Int32Array;
  valIndices: Int32Array;
}

/** The training images and the validation ones: a separate folder, a tree's val/, or a split. */
async function openRunData(
  config: TrainConfig,
  reopen: ReturnType<typeof reopenOptions> | { imageSize?: number },
  onPrepare: OpenRunOptions['onPrepare'],
): Promise<RunData> {
  const opened = await openDataset(config.data, {
    ...reopen,
    cacheDir: config.cacheDir,
    onProgress: onPrepare,
  });
  const dataset: ImageDataset = runSubset(opened.train, config);
  if (config.valData || opened.heldOutRole === 'validation') {
    // An explicit validation folder, or the val/ half of a train/val tree, replaces the split.
    const valDataset = config.valData
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
    return {
      dataset,
      valDataset,
      trainIndices: Int32Array.from(dataset.labels.keys()),
      valIndices: Int32Array.from(valDataset.labels.keys()),
    };
  }
  const split = stratifiedSplit(dataset.labels, config.valSplit, config.seed, dataset.classes);
  return {
    dataset,
    valDataset: split.validation.length > 0 ? dataset : undefined,
    trainIndices: split.train,
    valIndices: split.validation,
  };
}

/** A resumed run must see the data it started with: its classes, images and validation split. */
async function checkResumedData(files: RunFiles, config: TrainConfig, data: RunData): Promise<void> {
  const saved = await readJson<{ validation: number[]; fingerprint?: DataFingerprint }>(files.split);
  const savedClasses = await readJson<string[]>(files.labels);
  // Runs made before split.json held a fingerprint are checked by classes and split alone.
  const fingerprint = saved.fingerprint ? await fingerprintOf(data.dataset, data.valDataset) : undefined;
  if (
    JSON.stringify(savedClasses) !== JSON.stringify(data.dataset.classes) ||
    JSON.stringify(saved.validation) !== JSON.stringify(Array.from(data.valIndices)) ||
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

/** The model with its pretrained weights (a resumed run loads its checkpoint later), frozen layers, optimizer. */
function createModel(
  config: RunContext['config'],
  classes: string[],
  preprocessing: Preprocessing,
  pretrained: PretrainedModel | undefined,
): Pick<RunContext, 'model' | 'optimizer' | 'parameters' | 'frozenLayers'> {
  const model = buildModel({
    model: config.model,
    numClasses: classes.length,
    inputSize: preprocessing.inputSize,
    seed: config.seed,
    options: config.modelOptions,
  });
  try {
    // Every weight but the new head's (seeded like the builder's, for these classes) is the
    // pretrained one; a resumed run overwrites them all from its checkpoint.
    if (pretrained) applyPretrained(model, pretrained);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const frozenLayers = freezeLayers(model, config.freeze);
  const parameters: Parameter[] = model.trainableWeights.map((w) => ({
    name: w.originalName,
    variable: w.read() as tf.Variable,
    ...(config.headLrMult !== 1 && isHeadWeight(w.originalName) ? { lrMult: config.headLrMult } : {}),
  }));
  return { model, optimizer: new Optimizer(optimizerConfig(config), parameters), parameters, frozenLayers };
}

/** A new run's files: config, labels, preprocessing, split (with the data's fingerprint), an empty log. */
async function writeNewRun(context: RunContext): Promise<void> {
  const { files, config } = context;
  await mkdir(context.outDir, { recursive: true });
  await writeFileAtomic(files.config, JSON.stringify(config, null, 2));
  await writeFileAtomic(files.labels, JSON.stringify(context.classes, null, 1));
  await writeFileAtomic(files.preprocessing, JSON.stringify(context.preprocessing));
  await writeFileAtomic(
    files.split,
    JSON.stringify({
      valSplit: config.valSplit,
      seed: config.seed,
      validation: Array.from(context.valIndices),
      fingerprint: await fingerprintOf(context.dataset, context.valDataset),
    }),
  );
  await mkdir(path.dirname(files.metrics), { recursive: true });
  await writeFile(files.metrics, '');
}

/**
 * The config a run in `outDir` would train with, checked as `train` checks it: a new run's (complete
 * and valid, and `outDir` holding no run yet), or with `resume` the saved one with the runtime fields
 * of `input` (its saved `backend` unless `input` names one). Reads the run's files, writes nothing:
 * an application reads it to choose the backend before calling `train`.
 */
export async function resolveRunConfig(
  input: Partial<TrainConfigInput> | undefined,
  options: { outDir: string; resume?: boolean },
): Promise<TrainConfig> {
  return (await resolveRun(input, options)).config;
}

async function resolveRun(
  input: Partial<TrainConfigInput> | undefined,
  options: { outDir: string; resume?: boolean },
): Promise<{ config: TrainConfig; files: RunFiles; resuming: boolean }> {
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
  const config = resuming
    ? await resumedConfig(files, input)
    : newRunConfig(input, options.outDir, options.resume === true);
  return { config, files, resuming };
}

/**
 * Opens a run: its config (checked against the checkpoint when resuming), the active backend (set
 * up for the run), data and split, preprocessing, model and optimizer — restored from the
 * checkpoint, or written out as a new run.
 */
export async function openRun(
  input: Partial<TrainConfigInput> | undefined,
  options: OpenRunOptions,
): Promise<RunContext> {
  const { config: asked, files, resuming } = await resolveRun(input, options);
  const backend = await prepareBackend(asked);
  const { config, pretrained } = await takePretrained(asked, resuming);

  const savedPreprocessing = resuming ? await readJson<Preprocessing>(files.preprocessing) : undefined;
  const reopen = savedPreprocessing
    ? reopenOptions(savedPreprocessing, config.imageSize)
    : { imageSize: config.imageSize };
  const data = await openRunData(config, reopen, options.onPrepare);
  if (resuming) await checkResumedData(files, config, data);
  const preprocessing: Preprocessing =
    savedPreprocessing ??
    (pretrained && config.normalization === undefined
      ? pretrainedNormalization(
          // The pretrained model's normalisation replaces the default (computing none here).
          resolvePreprocessing({ ...config, normalization: 'none' }, data.dataset, data.trainIndices),
          pretrained,
        )
      : resolvePreprocessing(config, data.dataset, data.trainIndices));
  const classes = data.dataset.classes;
  const built = createModel(config, classes, preprocessing, pretrained);
  const context: RunContext = {
    config,
    files,
    outDir: options.outDir,
    resuming,
    backend,
    skippedBackends: options.skippedBackends ?? [],
    ...data,
    classes,
    preprocessing,
    ...built,
    state: { version: 1, epoch: 0, batch: 0, step: 0, history: [], epochsWithoutImprovement: 0 },
  };
  try {
    if (resuming) {
      context.state = await loadCheckpoint(files.checkpoint, built.model, built.optimizer);
      // The changed runtime fields hold from now on (a later plain --resume keeps the new --epochs).
      if (input) await writeFileAtomic(files.config, JSON.stringify(config, null, 2));
    } else {
      await writeNewRun(context);
    }
  } catch (error) {
    built.model.dispose();
    built.optimizer.dispose();
    throw error;
  }
  return context;
}
