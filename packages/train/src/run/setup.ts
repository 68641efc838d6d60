import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Preprocessing } from '../assemble';
import {
  applyConvLayout,
  applyPrecision,
  type BackendChoice,
  BackendError,
  loadOptional,
  NoFastBackendError,
  useBackend,
} from '../backend';
import { hasCheckpoint, loadCheckpoint, type TrainState } from '../checkpoint';
import { ConfigError, type TrainConfig, type TrainConfigInput } from '../config';
import { describeCpuCost, estimateCpuTraining } from '../cpu-cost';
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

/** Activates the run's backend with its threads, convolution layout and precision. */
async function prepareBackend(config: TrainConfig): Promise<{ backend: string; skipped: string[] }> {
  const chosen = await chooseTrainingBackend(config);
  if (config.threads && chosen.backend === 'onednn') {
    const onednn = (await loadOptional('@resnet-ts/tfjs-backend-onednn')) as {
      setThreads: (n: number) => void;
    };
    onednn.setThreads(config.threads);
  }
  await applyConvLayout(config.convLayout);
  await applyPrecision(config.precision);
  return chosen;
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
 * Opens a run: its config (checked against the checkpoint when resuming), backend, data and split,
 * preprocessing, model and optimizer — restored from the checkpoint, or written out as a new run.
 */
export async function openRun(
  input: Partial<TrainConfigInput> | undefined,
  options: OpenRunOptions,
): Promise<RunContext> {
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
  const asked = resuming
    ? await resumedConfig(files, input)
    : newRunConfig(input, options.outDir, options.resume === true);
  const { backend, skipped } = await prepareBackend(asked);
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
    skippedBackends: skipped,
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
