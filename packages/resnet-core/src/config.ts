import { RESNET_DEFAULTS } from './defaults';
import {
  type BlockKind,
  CIFAR_EXAMPLE_DEPTHS,
  CIFAR_STAGE_FILTERS,
  CIFAR_STEM_FILTERS,
  cifarBlocksPerStage,
  IMAGENET_DEPTHS,
  IMAGENET_STAGE_FILTERS,
  IMAGENET_STEM_FILTERS,
} from './depths';
import { ResNetConfigError } from './errors';

export type ResNetFamily = 'imagenet' | 'cifar';
/** A: parameter-free subsample + zero-pad; B: projection where the shape changes; C: projection everywhere. */
export type ShortcutKind = 'A' | 'B' | 'C';
/** Where a bottleneck block puts its stride: '1x1' = Keras/Caffe v1, '3x3' = torchvision v1.5. */
export type StrideOn = '1x1' | '3x3';
export type GlobalPooling = 'avg' | 'max';
/** Spatial dimensions may be null (any size); channels must be known. */
export type ImageShape = [number | null, number | null, number];

export interface BatchNormOptions {
  /** Moving-average momentum in the Keras sense (PyTorch's 0.1 is Keras's 0.9). Default 0.9. */
  momentum?: number;
  /** Default 1.001e-5, as keras.applications. */
  epsilon?: number;
}

export interface ResNetConfig {
  /** 10/18/34/50/101/152/200 (imagenet), or 6n+2 (basic) / 9n+2 (bottleneck) for the cifar family. */
  depth: number;
  /** Default 1000. */
  numClasses?: number;
  /** Height, width, channels. Default [224, 224, 3] (imagenet) or [32, 32, 3] (cifar). */
  inputShape?: ImageShape;
  /** Default: 'imagenet' for depths in the ImageNet table, otherwise 'cifar'. */
  family?: ResNetFamily;
  /** cifar only: 'basic' (6n+2, default) or 'bottleneck' (9n+2, e.g. ResNet-164). imagenet: fixed by depth. */
  block?: BlockKind;
  /** Default 'B' (imagenet) or 'A' (cifar). */
  shortcut?: ShortcutKind;
  /** Default '3x3'. Only changes bottleneck blocks. */
  strideOn?: StrideOn;
  /** ResNet v2 (He et al. 2016): BN-ReLU before each convolution. Default false. */
  preactivation?: boolean;
  /** Start each residual branch as zero (last BN gamma = 0; last conv kernel in v2). Default true. */
  zeroInitResidual?: boolean;
  /** Multiplier of every stage's channels (wide ResNets). Default 1. */
  width?: number;
  /** Global pooling + dropout + dense classifier. Default true. */
  includeTop?: boolean;
  /** Global pooling when includeTop is false. Default: none (the feature map is the output). */
  pooling?: GlobalPooling;
  /** Dropout rate before the classifier, in [0, 1). Default 0. */
  dropout?: number;
  /** Seed for every initializer; unset = random. */
  seed?: number;
  /** Model name. Default `resnet<depth>`. */
  name?: string;
  /** Bias on convolutions (keras.applications has them; torchvision does not). Default false. */
  convBias?: boolean;
  batchNorm?: BatchNormOptions;
  /** Activation of the `predictions` layer. Default 'softmax'; 'linear' returns logits. */
  classifierActivation?: 'softmax' | 'linear';
  /**
   * Each batch norm followed by a ReLU becomes one `ResNetBatchNormReLU` layer named like the
   * batch norm (its `_relu` layer disappears; weights and their names are unchanged), which a
   * backend with the fused kernel trains in one pass each way. Default false.
   */
  fuseBatchNormRelu?: boolean;
}

/** A validated config with every default filled in, and the architecture it implies. */
export interface ResolvedResNetConfig {
  depth: number;
  numClasses: number;
  inputShape: ImageShape;
  family: ResNetFamily;
  block: BlockKind;
  shortcut: ShortcutKind;
  strideOn: StrideOn;
  preactivation: boolean;
  zeroInitResidual: boolean;
  width: number;
  includeTop: boolean;
  pooling: GlobalPooling | undefined;
  dropout: number;
  seed: number | undefined;
  name: string;
  convBias: boolean;
  batchNorm: Required<BatchNormOptions>;
  classifierActivation: 'softmax' | 'linear';
  fuseBatchNormRelu: boolean;
  stemFilters: number;
  /** One entry per stage: blocks, base filters (after width), first-block stride. */
  stages: { blocks: number; filters: number; strides: number }[];
}

const CONFIG_KEYS: readonly (keyof ResNetConfig)[] = [
  'depth',
  'numClasses',
  'inputShape',
  'family',
  'block',
  'shortcut',
  'strideOn',
  'preactivation',
  'zeroInitResidual',
  'width',
  'includeTop',
  'pooling',
  'dropout',
  'seed',
  'name',
  'convBias',
  'batchNorm',
  'classifierActivation',
  'fuseBatchNormRelu',
];

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ResNetConfigError(
    field,
    `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
  );
}

function bool(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  throw new ResNetConfigError(field, `expected true or false, got ${JSON.stringify(value)}`);
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new ResNetConfigError(field, `expected a positive integer, got ${JSON.stringify(value)}`);
}

/** Checks an [height, width, channels] shape; shared with the AlexNet builder. */
export function validateImageShape(field: string, value: unknown): ImageShape {
  const ok =
    Array.isArray(value) &&
    value.length === 3 &&
    value.slice(0, 2).every((d) => d === null || (typeof d === 'number' && Number.isInteger(d) && d >= 1)) &&
    typeof value[2] === 'number' &&
    Number.isInteger(value[2]) &&
    value[2] >= 1;
  if (!ok) {
    throw new ResNetConfigError(
      field,
      `expected [height, width, channels] with positive integers (height and width may be null), got ${JSON.stringify(value)}`,
    );
  }
  return [value[0], value[1], value[2]] as ImageShape;
}

function cifarDepthMessage(block: BlockKind): string {
  const examples = `(${CIFAR_EXAMPLE_DEPTHS[block].join(', ')}, …)`;
  return block === 'basic'
    ? `cifar depth must be 6n+2 ${examples}`
    : `cifar bottleneck depth must be 9n+2 ${examples}`;
}

/** Fills defaults and validates; every error names the field and what it accepts. */
export function resolveResNetConfig(config: ResNetConfig): ResolvedResNetConfig {
  if (config === null || typeof config !== 'object') {
    throw new ResNetConfigError(
      'config',
      `expected an object like { depth: 50 }, got ${JSON.stringify(config)}`,
    );
  }
  for (const key of Object.keys(config)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ResNetConfigError(key, `unknown option; known options are ${CONFIG_KEYS.join(', ')}`);
    }
  }
  const depth = config.depth;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1) {
    throw new ResNetConfigError(
      'depth',
      `expected a positive integer such as 20 or 50, got ${JSON.stringify(depth)}`,
    );
  }
  const imagenetSpec = IMAGENET_DEPTHS[depth];
  const family = oneOf('family', config.family, ['imagenet', 'cifar'], imagenetSpec ? 'imagenet' : 'cifar');

  let block: BlockKind;
  let blocksPerStage: number[];
  if (family === 'imagenet') {
    if (!imagenetSpec) {
      const known = Object.keys(IMAGENET_DEPTHS).join(', ');
      throw new ResNetConfigError('depth', `imagenet depth must be one of ${known}, got ${depth}`);
    }
    block = imagenetSpec.block;
    if (config.block !== undefined && config.block !== block) {
      throw new ResNetConfigError(
        'block',
        `ResNet-${depth} (imagenet) uses '${block}' blocks; leave block unset or use family: 'cifar'`,
      );
    }
    blocksPerStage = [...imagenetSpec.blocksPerStage];
  } else {
    block = oneOf('block', config.block, ['basic', 'bottleneck'], RESNET_DEFAULTS.families.cifar.block);
    const n = cifarBlocksPerStage(depth, block);
    if (n === undefined) {
      throw new ResNetConfigError('depth', `${cifarDepthMessage(block)}, got ${depth}`);
    }
    blocksPerStage = [n, n, n];
  }

  const defaults = RESNET_DEFAULTS.families[family];
  const includeTop = bool('includeTop', config.includeTop, RESNET_DEFAULTS.includeTop);
  const numClasses =
    config.numClasses === undefined
      ? RESNET_DEFAULTS.numClasses
      : positiveInteger('numClasses', config.numClasses);
  const inputShape =
    config.inputShape === undefined
      ? ([...defaults.inputShape] as ImageShape)
      : validateImageShape('inputShape', config.inputShape);

  const width = config.width === undefined ? RESNET_DEFAULTS.width : config.width;
  if (typeof width !== 'number' || !Number.isFinite(width) || width <= 0) {
    throw new ResNetConfigError(
      'width',
      `expected a positive number (1 = standard width), got ${JSON.stringify(width)}`,
    );
  }
  const dropout = config.dropout === undefined ? RESNET_DEFAULTS.dropout : config.dropout;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new ResNetConfigError('dropout', `expected a rate in [0, 1), got ${JSON.stringify(dropout)}`);
  }
  if (config.seed !== undefined && !(typeof config.seed === 'number' && Number.isInteger(config.seed))) {
    throw new ResNetConfigError('seed', `expected an integer, got ${JSON.stringify(config.seed)}`);
  }
  if (
    config.name !== undefined &&
    !(typeof config.name === 'string' && /^[A-Za-z0-9_.-]+$/.test(config.name))
  ) {
    throw new ResNetConfigError(
      'name',
      `expected letters, digits, '_', '.' or '-', got ${JSON.stringify(config.name)}`,
    );
  }
  const pooling =
    config.pooling === undefined ? undefined : oneOf('pooling', config.pooling, ['avg', 'max'], 'avg');
  if (includeTop && pooling === 'max') {
    throw new ResNetConfigError(
      'pooling',
      "the classifier top uses average pooling; 'max' needs includeTop: false",
    );
  }

  const bn = config.batchNorm ?? {};
  if (typeof bn !== 'object' || bn === null) {
    throw new ResNetConfigError('batchNorm', `expected { momentum?, epsilon? }, got ${JSON.stringify(bn)}`);
  }
  for (const key of Object.keys(bn)) {
    if (key !== 'momentum' && key !== 'epsilon')
      throw new ResNetConfigError(`batchNorm.${key}`, 'unknown option; known options are momentum, epsilon');
  }
  const momentum = bn.momentum ?? RESNET_DEFAULTS.batchNorm.momentum;
  const epsilon = bn.epsilon ?? RESNET_DEFAULTS.batchNorm.epsilon;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) {
    throw new ResNetConfigError(
      'batchNorm.momentum',
      `expected a number in [0, 1), got ${JSON.stringify(momentum)}`,
    );
  }
  if (typeof epsilon !== 'number' || !(epsilon > 0)) {
    throw new ResNetConfigError(
      'batchNorm.epsilon',
      `expected a positive number, got ${JSON.stringify(epsilon)}`,
    );
  }

  const baseFilters = family === 'imagenet' ? IMAGENET_STAGE_FILTERS : CIFAR_STAGE_FILTERS;
  const stages = blocksPerStage.map((blocks, i) => ({
    blocks,
    filters: Math.max(1, Math.round(baseFilters[i]! * width)),
    strides: i === 0 ? 1 : 2,
  }));

  return {
    depth,
    numClasses,
    inputShape,
    family,
    block,
    shortcut: oneOf('shortcut', config.shortcut, ['A', 'B', 'C'], defaults.shortcut),
    strideOn: oneOf('strideOn', config.strideOn, ['1x1', '3x3'], RESNET_DEFAULTS.strideOn),
    preactivation: bool('preactivation', config.preactivation, RESNET_DEFAULTS.preactivation),
    zeroInitResidual: bool('zeroInitResidual', config.zeroInitResidual, RESNET_DEFAULTS.zeroInitResidual),
    width,
    includeTop,
    pooling,
    dropout,
    seed: config.seed,
    name: config.name ?? `resnet${depth}${config.preactivation ? 'v2' : ''}`,
    convBias: bool('convBias', config.convBias, RESNET_DEFAULTS.convBias),
    batchNorm: { momentum, epsilon },
    classifierActivation: oneOf(
      'classifierActivation',
      config.classifierActivation,
      ['softmax', 'linear'],
      RESNET_DEFAULTS.classifierActivation,
    ),
    fuseBatchNormRelu: bool('fuseBatchNormRelu', config.fuseBatchNormRelu, RESNET_DEFAULTS.fuseBatchNormRelu),
    stemFilters: family === 'imagenet' ? IMAGENET_STEM_FILTERS : CIFAR_STEM_FILTERS,
    stages,
  };
}
