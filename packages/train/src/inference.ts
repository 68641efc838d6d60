import path from 'node:path';
import { configureBackend } from '@resnet-ts/backends';
import { foldBatchNorm } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BatchAssembler, batchSource } from './assemble';
import { ConfigError, type ConvLayout, type Precision, parseTrainConfig } from './config';
import type { ImageDataset } from './data/dataset';
import { openDataset } from './data/open';
import { runSubset } from './data/split';
import { evaluate, inferScores, type TestTimeAugmentation } from './evaluate';
import { loadModel, type ModelBundle } from './export';
import { readJson } from './files';
import { BatchLoader } from './loader';
import { reopenOptions } from './preprocess';
import { runFiles } from './trainer';

export type EvalSplit = 'val' | 'all' | 'test';

export interface EvaluateModelOptions {
  /** A run directory or an exported model directory. */
  model: string;
  /** Data to evaluate; default: the run's own data (its validation split). */
  data?: string;
  /** `val`: the run's validation split of `data`; `all`: every sample; `test`: the data's held-out part (CIFAR-10 test batch, `val/` tree). */
  split?: EvalSplit;
  batchSize?: number;
  workers?: number;
  cacheDir?: string;
  /** `flip`: average each image's probabilities with its mirror image's. Default `none`. */
  tta?: TestTimeAugmentation;
  /** Arithmetic of the `cuda` backend; default: the run's on cuda (its validation's numbers), fp32 elsewhere. */
  precision?: Precision;
}

export interface ModelEvaluation {
  data: string;
  split: EvalSplit;
  tta: TestTimeAugmentation;
  count: number;
  loss: number;
  top1: number;
  top5: number;
  classes: string[];
  perClassAccuracy: number[];
  /** Rows: true class; columns: predicted class. */
  confusion: number[][];
}

/** Evaluates a saved model: loss, top-1, top-5, per-class accuracy and the confusion matrix. */
export async function evaluateModel(options: EvaluateModelOptions): Promise<ModelEvaluation> {
  const bundle = await loadModel(options.model);
  try {
    // An exported model inside a run directory (run/model, run/best) uses the run's config and split.
    const isRun = await readJson<unknown>(runFiles(options.model).split).then(
      () => true,
      () => false,
    );
    const files = runFiles(isRun ? options.model : path.dirname(path.resolve(options.model)));
    const runConfig = await readJson<unknown>(files.config).then(parseTrainConfig, () => undefined);
    await configureInference(options.precision, runConfig); // the bits of training's validation
    const data = options.data ?? runConfig?.data;
    if (!data)
      throw new ConfigError(`data: ${options.model} is not a run directory, so say which data to evaluate`);
    const split: EvalSplit = options.split ?? (options.data ? 'all' : 'val');
    // The run's validation split indexes the run's own data (its subset, its valData): other data
    // has no validation split, and indexing it with split.json would score arbitrary images.
    const runData = !options.data || (runConfig !== undefined && sameData(options.data, runConfig.data));
    if (split === 'val' && !runData)
      throw new ConfigError(
        `split: val is the validation split of the run's data (${runConfig?.data ?? 'none recorded'}), not of ${options.data}; use --split all or test`,
      );
    // The run's own data reaches the model as in training; other data is opened as it is.
    const reopen = runData
      ? reopenOptions(bundle.preprocessing, runConfig?.imageSize)
      : { imageSize: runConfig?.imageSize };
    const opened = await openDataset(data, {
      ...reopen,
      cacheDir: options.cacheDir ?? runConfig?.cacheDir,
    });
    // A run that trained on a per-class subset split that subset: rebuild it to find its samples.
    let dataset: ImageDataset =
      runData && split === 'val' && runConfig ? runSubset(opened.train, runConfig) : opened.train;
    let indices: Int32Array;
    if (split === 'test') {
      if (!opened.heldOut)
        throw new ConfigError(
          `split: ${data} has no held-out test part (CIFAR-10 test batch or a val/ folder)`,
        );
      dataset = opened.heldOut;
      indices = Int32Array.from(dataset.labels.keys());
    } else if (split === 'val' && (opened.heldOutRole === 'validation' || runConfig?.valData)) {
      // (split val is only allowed on the run's own data, checked above.)
      // The run validated on a separate folder (its valData, or the val/ of a train/val tree).
      dataset = runConfig?.valData
        ? (
            await openDataset(runConfig.valData, {
              ...reopen,
              cacheDir: options.cacheDir ?? runConfig.cacheDir,
            })
          ).train
        : (opened.heldOut as ImageDataset);
      indices = Int32Array.from(dataset.labels.keys());
    } else if (split === 'val') {
      const saved = await readJson<{ validation: number[] }>(files.split).catch(() => {
        throw new ConfigError(`split: val needs the run directory's split.json (${files.split})`);
      });
      indices = Int32Array.from(saved.validation);
      if (indices.some((i) => i >= dataset.labels.length)) {
        throw new ConfigError(
          `split: ${files.split} indexes past the ${dataset.labels.length} samples of ${data}; is this the data the run trained on?`,
        );
      }
    } else {
      indices = Int32Array.from(dataset.labels.keys());
    }
    if (indices.length === 0)
      throw new ConfigError(
        `split: ${split} of ${data} holds no images (was the run trained with valSplit 0?)`,
      );
    const labels = modelLabelsOf(dataset, bundle, data);
    const loader = new BatchLoader(batchSource(dataset), bundle.preprocessing, {
      workers: options.workers ?? 0,
    });
    try {
      const result = await evaluate(bundle.model, loader, bundle.preprocessing, labels, indices, {
        batchSize: options.batchSize ?? 128,
        numClasses: bundle.labels.length,
        scores: 'probabilities',
        tta: options.tta,
      });
      const summary = result.metrics.summary();
      return {
        data,
        split,
        tta: options.tta ?? 'none',
        count: summary.count,
        loss: summary.loss,
        top1: summary.top1,
        top5: summary.top5,
        classes: bundle.labels,
        perClassAccuracy: result.metrics.perClassAccuracy(),
        confusion: result.metrics.matrix(),
      };
    } finally {
      await loader.close();
    }
  } finally {
    bundle.model.dispose();
  }
}

/**
 * The data's labels as indices of the model's outputs. The data's classes are the model's, in
 * order (what training saw), or any of them by name or by class id (`class-ids.json`, e.g. an
 * ImageNet model's WordNet ids): a folder of 30 ImageNet classes, named either way, is scored
 * against the model's 1,000 outputs. A class the model does not know is an error that names it.
 */
function modelLabelsOf(dataset: ImageDataset, bundle: ModelBundle, data: string): Int32Array {
  if (JSON.stringify(dataset.classes) === JSON.stringify(bundle.labels)) return dataset.labels;
  // By id, then by name (a name wins where a folder could be read either way).
  const index = new Map<string, number>([
    ...(bundle.classIds ?? []).map((id, i): [string, number] => [id, i]),
    ...bundle.labels.map((label, i): [string, number] => [label, i]),
  ]);
  const unknown = dataset.classes.filter((c) => !index.has(c));
  if (unknown.length > 0) {
    const shown = (names: readonly string[]) =>
      names.length > 8 ? `${names.slice(0, 8).join(', ')}, … (${names.length} in all)` : names.join(', ');
    throw new ConfigError(
      `data: ${data} has classes the model does not know (${shown(unknown)}); the model's are ${shown(bundle.labels)}${bundle.classIds ? ` (or by id ${shown(bundle.classIds)})` : ''}`,
    );
  }
  const toModel = dataset.classes.map((c) => index.get(c) as number);
  return dataset.labels.map((label) => toModel[label] as number);
}

/** Whether two `--data` specs name the same data (`cifar10`, or the same resolved path). */
function sameData(a: string, b: string): boolean {
  const canonical = (spec: string) =>
    spec === 'cifar10'
      ? spec
      : spec.startsWith('cifar10:')
        ? `cifar10:${path.resolve(spec.slice(8))}`
        : path.resolve(spec);
  return canonical(a) === canonical(b);
}

/**
 * The model as prediction runs it: batch norms folded into the convolutions and residual additions
 * fused into them (resnet-core's `foldBatchNorm`; the same predictions up to float32 rounding, and
 * faster on a backend with the fused kernel). A model that is not a functional one is run as it is.
 */
function servedModel(model: tfl.LayersModel): tfl.LayersModel {
  const config = model.getConfig() as { layers?: unknown; outputLayers?: unknown };
  if (!Array.isArray(config.layers) || !Array.isArray(config.outputLayers)) return model;
  return foldBatchNorm(model).model;
}

export interface Prediction {
  file: string;
  top: { label: string; index: number; probability: number }[];
}

/**
 * Sets up the active backend as the run validated: its convolution layout, and the precision asked
 * for, which must suit the backend; otherwise the run's own (on `cuda`, the numbers of its
 * validation), which on a backend without it leaves fp32.
 */
async function configureInference(
  asked: Precision | undefined,
  recorded: { convLayout?: ConvLayout; precision?: Precision } | undefined,
): Promise<void> {
  await configureBackend(
    { convLayout: recorded?.convLayout ?? 'plain', precision: asked ?? recorded?.precision ?? 'fp32' },
    { fallback: asked === undefined },
  );
}

/**
 * Classifies image files with a saved model (its evaluation preprocessing); the `top` classes each.
 * Images are decoded and scored `batchSize` at a time, so memory does not grow with their number.
 * `precision` as in `EvaluateModelOptions`. The model runs with its batch norms folded (and residual
 * additions fused) as `foldBatchNorm` makes it; `evaluateModel` runs it as saved, so that it
 * reproduces the run's validation exactly.
 */
export async function predictImages(
  model: string | ModelBundle,
  images: string[],
  top = 5,
  tta: TestTimeAugmentation = 'none',
  batchSize = 32,
  precision?: Precision,
): Promise<Prediction[]> {
  if (images.length === 0) throw new ConfigError('images: expected at least one image file');
  if (!Number.isInteger(top) || top < 1)
    throw new ConfigError(`top: expected a positive integer, got ${top}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError(`batchSize: expected a positive integer, got ${batchSize}`);
  const bundle = typeof model === 'string' ? await loadModel(model) : model;
  let served = bundle.model;
  try {
    const saved = await readJson<{ convLayout?: ConvLayout; precision?: Precision }>(
      path.join(bundle.dir, 'config.json'),
    ).catch(() => undefined);
    await configureInference(precision, saved);
    const [height, width] = bundle.preprocessing.inputSize;
    // Small-image models were trained on images of exactly their input size (no resize step):
    // bring any image to that size (a no-op for images already that size).
    const eval_ =
      bundle.preprocessing.eval.steps.length === 0
        ? {
            ...bundle.preprocessing,
            eval: {
              ...bundle.preprocessing.eval,
              steps: [
                {
                  op: 'resizeAndCenterCrop' as const,
                  shorter: Math.min(height, width),
                  size: Math.min(height, width),
                },
              ],
            },
          }
        : bundle.preprocessing;
    const assembler = new BatchAssembler({ kind: 'files', files: images }, eval_);
    served = servedModel(bundle.model);
    const k = bundle.labels.length;
    const predictions: Prediction[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      const count = Math.min(batchSize, images.length - start);
      const { x } = await assembler.assemble({
        mode: 'eval',
        seed: 0,
        epoch: 0,
        indices: Int32Array.from({ length: count }, (_, n) => start + n),
      });
      const input = tf.tensor4d(x, [count, height, width, 3]);
      const probabilities = inferScores(served, input, 'probabilities', tta).scores;
      input.dispose();
      for (let n = 0; n < count; n++) {
        const row = Array.from(probabilities.subarray(n * k, (n + 1) * k), (probability, index) => ({
          index,
          probability,
          label: bundle.labels[index] as string,
        }));
        row.sort((a, b) => b.probability - a.probability);
        predictions.push({
          file: path.resolve(images[start + n] as string),
          top: row.slice(0, Math.min(top, k)),
        });
      }
    }
    return predictions;
  } finally {
    if (served !== bundle.model) served.dispose();
    if (typeof model === 'string') bundle.model.dispose();
  }
}
