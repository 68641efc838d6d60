import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Normalization } from '@resnet-ts/augment';
import {
  CIFAR_STAGE_FILTERS,
  depthOfStages,
  FIRST_STAGE,
  IMAGENET_DEPTHS,
  IMAGENET_STAGE_FILTERS,
  isModelName,
  type LayerSpec,
  layerName,
  parseLayerName,
  parseModelName,
  RESNET_DEFAULTS,
  resnetName,
  resolveResNetConfig,
} from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Preprocessing } from './assemble';
import { ConfigError, FREEZE_POINTS, type FreezePoint } from './config';
import { loadModel } from './export';
import { readJson } from './files';

/** The classifier layer a fine-tuning run replaces (resnet-core's and Keras's name). */
export const HEAD_LAYER = layerName({ at: 'top', layer: 'predictions' });

/** A model architecture as a run config names it. */
export interface Architecture {
  model: string;
  modelOptions: Record<string, unknown>;
}

/** What a fine-tuning run takes from a pretrained model directory; holds no tensors. */
export interface PretrainedModel extends Architecture {
  /** The directory as given (an exported model or a run directory). */
  dir: string;
  /** The directory holding its model.json. */
  modelDir: string;
  /** Where the architecture came from: the model's config.json, or its layers. */
  architectureFrom: 'config' | 'topology' | 'request';
  preprocessing: Preprocessing;
  labels: string[];
  /** SHA-256 (hex) of its weight file (of its shards one after another, when there are several). */
  sha256: string;
  /** Every weight by name (`conv1_conv/kernel`), the old head's included. */
  weights: Map<string, { shape: number[]; dtype: tf.DataType; values: tf.TypedArray }>;
}

const issue = (path: string, message: string, mentions?: string[]): ConfigError =>
  new ConfigError([{ path, message, ...(mentions ? { mentions } : {}) }]);

async function weightsSha256(modelDir: string): Promise<string> {
  const json = await readJson<{ weightsManifest?: { paths: string[] }[] }>(path.join(modelDir, 'model.json'));
  const hash = createHash('sha256');
  for (const group of json.weightsManifest ?? []) {
    for (const shard of group.paths) hash.update(await readFile(path.join(modelDir, shard)));
  }
  return hash.digest('hex');
}

type LayerConfig = Record<string, unknown>;

/**
 * The resnet-core architecture (`resnet<depth>` and builder options) a model's layers describe, by
 * resnet-core's Keras-style names: stages `conv2_*`…, blocks `convK_blockN_*`, `_3_conv` in
 * bottlenecks, `pool1_pool` in the ImageNet stem, `_0_conv` projections, `_preact_bn` in v2. Only
 * options that differ from the builder's defaults are named. Undefined when the layers are not a
 * resnet-core ResNet's.
 */
export function inferArchitecture(model: tfl.LayersModel): Architecture | undefined {
  const layers = new Map(model.layers.map((layer) => [layer.name, layer]));
  const configOf = (spec: LayerSpec) => layers.get(layerName(spec))?.getConfig() as LayerConfig | undefined;
  const has = (spec: LayerSpec) => layers.has(layerName(spec));
  const blockConv = (stage: number, block: number, conv: number): LayerSpec => ({
    at: 'block',
    stage: FIRST_STAGE + stage,
    block,
    layer: 'conv',
    conv,
  });
  const blocks: number[] = [];
  /** Projection shortcuts (`_0_conv`), as [stage, block]. */
  const projections: [number, number][] = [];
  let preactivation = false;
  for (const name of layers.keys()) {
    const spec = parseLayerName(name);
    if (spec?.at !== 'block') continue;
    const stage = spec.stage - FIRST_STAGE;
    blocks[stage] = Math.max(blocks[stage] ?? 0, spec.block);
    if (spec.layer === 'conv' && spec.conv === 0) projections.push([stage, spec.block]);
    if (spec.layer === 'preact_bn') preactivation = true;
  }
  if (blocks.length === 0 || Array.from(blocks, (n) => n ?? 0).some((n) => n < 1)) return undefined;
  const bottleneck = has(blockConv(0, 1, 3));
  const family = has({ at: 'pool1', layer: 'pool' }) ? 'imagenet' : 'cifar';
  const block = bottleneck ? 'bottleneck' : 'basic';
  const options: Record<string, unknown> = {};
  const depth = depthOfStages(family, block, blocks);
  if (depth === undefined) return undefined;
  if (family === 'cifar') {
    if (IMAGENET_DEPTHS[depth]) options.family = 'cifar'; // else the depth would mean an ImageNet ResNet
    if (bottleneck) options.block = 'bottleneck';
  }
  // B projects where the shape changes, C everywhere: in a block after the first of its stage, or
  // in the first block of stage 1 when its channels are the stem's (it has stride 1).
  const stage1Out = configOf(blockConv(0, 1, bottleneck ? 3 : 2))?.filters;
  const stem = configOf({ at: 'stem', layer: 'conv' });
  const projectsSameShape =
    projections.some(([, b]) => b !== 1) ||
    (projections.some(([stage, b]) => stage === 0 && b === 1) && stage1Out === stem?.filters);
  const shortcut = projectsSameShape ? 'C' : projections.length > 0 ? 'B' : 'A';
  if (shortcut !== RESNET_DEFAULTS.families[family].shortcut) options.shortcut = shortcut;
  const strides = configOf(blockConv(1, 1, 1))?.strides;
  if (bottleneck && Array.isArray(strides) && strides[0] === 2) options.strideOn = '1x1';
  if (preactivation) options.preactivation = true;
  const filters = configOf(blockConv(0, 1, 1))?.filters;
  const base = (family === 'imagenet' ? IMAGENET_STAGE_FILTERS : CIFAR_STAGE_FILTERS)[0];
  if (typeof filters === 'number' && filters !== base) options.width = filters / base;
  if (stem?.useBias === true) options.convBias = true;
  const bn = model.layers.find((layer) => layer.getClassName().includes('BatchNorm'))?.getConfig() as
    | LayerConfig
    | undefined;
  const batchNorm: Record<string, unknown> = {};
  const defaults = RESNET_DEFAULTS.batchNorm;
  if (typeof bn?.momentum === 'number' && bn.momentum !== defaults.momentum) batchNorm.momentum = bn.momentum;
  if (typeof bn?.epsilon === 'number' && bn.epsilon !== defaults.epsilon) batchNorm.epsilon = bn.epsilon;
  if (Object.keys(batchNorm).length > 0) options.batchNorm = batchNorm;
  const rate = configOf({ at: 'top', layer: 'top_dropout' })?.rate;
  if (typeof rate === 'number' && rate > 0) options.dropout = rate;
  try {
    resolveResNetConfig({ ...options, depth });
  } catch {
    return undefined;
  }
  return { model: resnetName(depth), modelOptions: options };
}

/**
 * Reads a pretrained model (an exported model directory or a run directory, as `loadModel`):
 * its weights, preprocessing, labels and the SHA-256 of its weights, and its architecture — from
 * its config.json when that names one, else from its layers (`inferArchitecture`), else the one
 * `requested`. A requested `model` must agree with the pretrained one. Errors are ConfigErrors
 * naming the field (`pretrained`, `model`, `pretrainedSha256`).
 */
export async function loadPretrained(
  dir: string,
  requested: { model?: string; modelOptions?: Record<string, unknown>; sha256?: string } = {},
): Promise<PretrainedModel> {
  let bundle: Awaited<ReturnType<typeof loadModel>>;
  try {
    bundle = await loadModel(dir);
  } catch (error) {
    throw issue('pretrained', (error as Error).message);
  }
  try {
    const sha256 = await weightsSha256(bundle.dir);
    if (requested.sha256 !== undefined && requested.sha256 !== sha256) {
      throw issue(
        'pretrainedSha256',
        `is ${requested.sha256}, but the weights in ${dir} have SHA-256 ${sha256}: they are not the pretrained weights this config names`,
      );
    }
    const saved = await readJson<{ model?: unknown; modelOptions?: unknown }>(
      path.join(bundle.dir, 'config.json'),
    ).catch(() => undefined);
    let architecture: Architecture | undefined;
    let architectureFrom: PretrainedModel['architectureFrom'] = 'config';
    if (isModelName(saved?.model)) {
      const options = saved.modelOptions;
      architecture = {
        model: saved.model as string,
        modelOptions:
          options && typeof options === 'object' && !Array.isArray(options)
            ? (options as Record<string, unknown>)
            : {},
      };
    } else {
      architecture = inferArchitecture(bundle.model);
      architectureFrom = 'topology';
    }
    if (architecture && requested.model !== undefined && requested.model !== architecture.model) {
      throw issue(
        'model',
        `must be ${architecture.model}, the architecture of the pretrained model in ${dir}, or be left out (got "${requested.model}")`,
      );
    }
    if (!architecture) {
      if (requested.model === undefined) {
        throw issue(
          'pretrained',
          `${dir}: cannot tell the model's architecture (no config.json names it, and its layers are not a resnet-core ResNet's); give it with {model}`,
          ['model'],
        );
      }
      architecture = { model: requested.model, modelOptions: {} };
      architectureFrom = 'request';
    }
    const weights: PretrainedModel['weights'] = new Map();
    for (const variable of bundle.model.weights) {
      weights.set(variable.originalName, {
        shape: [...variable.shape] as number[],
        dtype: variable.dtype,
        values: variable.read().dataSync() as tf.TypedArray,
      });
    }
    return {
      dir,
      modelDir: bundle.dir,
      model: architecture.model,
      modelOptions: { ...architecture.modelOptions, ...requested.modelOptions },
      architectureFrom,
      preprocessing: bundle.preprocessing,
      labels: bundle.labels,
      sha256,
      weights,
    };
  } finally {
    bundle.model.dispose();
  }
}

/** Whether a weight (by its name, `predictions/kernel`) belongs to the classifier head. */
export const isHeadWeight = (weightName: string) => weightName.startsWith(`${HEAD_LAYER}/`);

/**
 * Writes the pretrained weights into `model` (built for the new data, with a fresh seeded head),
 * by name: every weight but the head's, exactly. Both sides must match weight for weight (name
 * and shape), else the error names what differs.
 */
export function applyPretrained(model: tfl.LayersModel, pretrained: PretrainedModel): void {
  const problems: string[] = [];
  const used = new Set<string>();
  for (const variable of model.weights) {
    const name = variable.originalName;
    if (isHeadWeight(name)) continue;
    const saved = pretrained.weights.get(name);
    if (!saved) problems.push(`it has no ${name}`);
    else if (!tf.util.arraysEqual(saved.shape, variable.shape as number[]))
      problems.push(`its ${name} is ${JSON.stringify(saved.shape)}, not ${JSON.stringify(variable.shape)}`);
    used.add(name);
  }
  for (const name of pretrained.weights.keys()) {
    if (!isHeadWeight(name) && !used.has(name))
      problems.push(`it has ${name}, which ${pretrained.model} has not`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 3).join('; ');
    const more = problems.length > 3 ? `; and ${problems.length - 3} more differences` : '';
    throw issue(
      'pretrained',
      `${pretrained.dir}: its weights do not fit ${pretrained.model} ${JSON.stringify(pretrained.modelOptions)} (${shown}${more}); check {model} and {modelOptions}`,
      ['model', 'modelOptions'],
    );
  }
  for (const variable of model.weights) {
    const saved = pretrained.weights.get(variable.originalName);
    if (!saved || isHeadWeight(variable.originalName)) continue;
    const value = tf.tensor(saved.values, saved.shape, saved.dtype);
    variable.write(value);
    value.dispose();
  }
}

/** Stages of a named model: 4 for ImageNet ResNets, 3 for CIFAR ones, none for AlexNet. */
function stagesOf(model: string, modelOptions: Record<string, unknown>): number {
  try {
    const identity = parseModelName(model, modelOptions);
    return identity.kind === 'resnet' ? identity.resolved.stages.length : 0;
  } catch {
    return 0; // the builder names the problem when the model is built
  }
}

/** Checks `freeze` against the model's stages (a CIFAR ResNet has 3: stage4 is refused). */
export function checkFreeze(
  freeze: FreezePoint | undefined,
  model: string,
  modelOptions: Record<string, unknown>,
): void {
  if (freeze === undefined) return;
  const stages = stagesOf(model, modelOptions);
  if (stages === 0) {
    throw issue('freeze', `needs a ResNet: ${model} has no stem and stages to freeze (got "${freeze}")`);
  }
  const allowed = FREEZE_POINTS.slice(0, stages + 1);
  if (!(allowed as readonly string[]).includes(freeze)) {
    throw issue(
      'freeze',
      `must be one of ${allowed.join(', ')} for ${model}, which has ${stages} stages (got "${freeze}")`,
    );
  }
}

/** Whether `freeze` reaches the layer called `name`: the stem (`conv1_*`, `pool1_*`), stages 1 to K (`conv2_*` …). */
function isFrozen(name: string, freeze: FreezePoint): boolean {
  const stages = freeze === 'stem' ? 0 : Number(freeze.slice('stage'.length));
  const spec = parseLayerName(name);
  if (spec?.at === 'stem' || spec?.at === 'pool1') return true;
  return spec?.at === 'block' && spec.stage < FIRST_STAGE + stages;
}

/**
 * Marks the layers `freeze` reaches as not trainable (their weights leave `trainableWeights`, and
 * resnet-core's batch norms then run in inference mode); returns them.
 */
export function freezeLayers(model: tfl.LayersModel, freeze: FreezePoint | undefined): tfl.layers.Layer[] {
  if (freeze === undefined) return [];
  const frozen = model.layers.filter((layer) => isFrozen(layer.name, freeze));
  for (const layer of frozen) layer.trainable = false;
  return frozen;
}

/**
 * The run's preprocessing from the pretrained model's: its normalisation unless the config names
 * one (so converted ImageNet weights see inputs as they were trained).
 */
export function pretrainedNormalization(
  preprocessing: Preprocessing,
  pretrained: PretrainedModel,
): Preprocessing {
  const normalization = pretrained.preprocessing.eval.normalization as Normalization | undefined;
  if (normalization?.mode === 'per-pixel-mean') {
    const [height, width] = preprocessing.inputSize;
    if (normalization.height !== height || normalization.width !== width) {
      throw issue(
        'normalization',
        `must be given: the pretrained model in ${pretrained.dir} subtracts a per-pixel mean of ${normalization.width}×${normalization.height} images, and this run's input is ${width}×${height}`,
      );
    }
  }
  return {
    ...preprocessing,
    train: { ...preprocessing.train, normalization },
    eval: { ...preprocessing.eval, normalization },
  };
}

/** The square input side of the pretrained model, for `imageSize` (undefined: not square). */
export function pretrainedImageSize(pretrained: PretrainedModel): number | undefined {
  const [height, width] = pretrained.preprocessing.inputSize;
  return height === width ? height : undefined;
}

/** How a run starts, as the start event and the report say it. */
export interface StartDescription {
  pretrained?: { dir: string; model: string; sha256?: string };
  frozen?: { through: FreezePoint; layers?: number; params?: number };
  headLrMult: number;
}

/**
 * The start of a run in words — `fine-tuning from pretrained weights in runs/base (resnet20,
 * SHA-256 1a2b3c4d5e6f…); frozen: stem through stage1 (14 layers, 2,352 weights); head LR × 2` —
 * or undefined for a run from scratch at the usual head learning rate.
 */
export function describeStart(start: StartDescription): string | undefined {
  const parts: string[] = [];
  if (start.pretrained) {
    const sha = start.pretrained.sha256 ? `, SHA-256 ${start.pretrained.sha256.slice(0, 12)}…` : '';
    parts.push(
      `fine-tuning from pretrained weights in ${start.pretrained.dir} (${start.pretrained.model}${sha})`,
    );
  }
  if (start.frozen) {
    const { through, layers, params } = start.frozen;
    const counts = [
      ...(layers === undefined ? [] : [`${layers} layers`]),
      ...(params === undefined ? [] : [`${params.toLocaleString('en-US')} weights`]),
    ];
    parts.push(
      `frozen: ${through === 'stem' ? 'stem' : `stem through ${through}`}${counts.length ? ` (${counts.join(', ')})` : ''}`,
    );
  } else if (start.pretrained) {
    parts.push('frozen: none');
  }
  if (start.pretrained || start.headLrMult !== 1) {
    parts.push(`${start.pretrained ? 'new head' : 'head'} LR × ${start.headLrMult}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}
