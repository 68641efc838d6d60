import * as tfl from '@tensorflow/tfjs-layers';
import type { ShortcutKind, StrideOn } from './config';
import { BLOCK_DEFAULTS, KERAS_BLOCK_DEFAULTS } from './defaults';
import { type BlockKind, EXPANSION } from './depths';
import { ResNetConfigError } from './errors';
import { batchNorm, batchNormRelu, channelsOf, conv, type LayerSettings, relu } from './layer-helpers';
import { type BlockLayer, blockLayerName, blockName } from './layer-names';
import { SubsampleZeroPad } from './layers/subsample-zero-pad';

/** Options shared by every residual block builder. */
export interface BlockOptions extends LayerSettings {
  /** Layer-name prefix, e.g. 'conv2_block1'; the weight-file contract (see the README). */
  name: string;
  /** Stride of the block (2 halves height and width). Default 1. */
  strides?: number;
  /** Default 'B': projection only where the shape changes. */
  shortcut?: ShortcutKind;
  /** ResNet v2 ordering (BN-ReLU before each convolution). Default false. */
  preactivation?: boolean;
  /** Start the residual branch at zero. Default true. */
  zeroInitResidual?: boolean;
}

export interface BasicBlockOptions extends BlockOptions {
  /** Channels of both 3x3 convolutions and of the output. */
  filters: number;
}

export interface BottleneckBlockOptions extends BlockOptions {
  /** Inner width; the block outputs 4 × filters channels. */
  filters: number;
  /** Which convolution carries the stride. Default '3x3' (torchvision v1.5). */
  strideOn?: StrideOn;
}

/** The original notebook's Keras blocks: explicit [f1, f2, f3] filters and a middle kernel size. */
export interface KerasBlockOptions extends Omit<BlockOptions, 'shortcut' | 'strides'> {
  filters: [number, number, number];
  /** Middle convolution's kernel size. Default 3. */
  kernelSize?: number;
}

export interface ConvBlockOptions extends KerasBlockOptions {
  /** Default 2, on the first 1x1 convolution as in Keras/Caffe v1 unless strideOn says otherwise. */
  strides?: number;
  /** Default '1x1' (the notebook's convolutional block). */
  strideOn?: StrideOn;
}

export interface StageOptions extends Omit<BlockOptions, 'name'> {
  /** Stage name prefix; blocks are named `<name>_block1`, `<name>_block2`, … */
  name: string;
  block: BlockKind;
  blocks: number;
  filters: number;
  strideOn?: StrideOn;
}

type Tensor = tfl.SymbolicTensor;
type ShortcutMode = 'identity' | 'zero-pad' | 'projection';

function checkPositiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ResNetConfigError(field, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function shortcutMode(
  kind: ShortcutKind,
  inChannels: number,
  outChannels: number,
  strides: number,
): ShortcutMode {
  const changes = strides !== 1 || inChannels !== outChannels;
  if (kind === 'C' || (kind === 'B' && changes)) return 'projection';
  if (kind === 'A' && changes) {
    if (inChannels > outChannels) {
      throw new ResNetConfigError(
        'shortcut',
        `option A cannot shrink ${inChannels} channels to ${outChannels}; use 'B' or 'C'`,
      );
    }
    return 'zero-pad';
  }
  return 'identity';
}

/**
 * The shortcut path. Projections read the pre-activated input in v2 (He et al. 2016) and carry
 * their own BN in v1; option A is the parameter-free subsample + zero-pad layer.
 */
function shortcutPath(
  x: Tensor,
  preactivated: Tensor,
  mode: ShortcutMode,
  outChannels: number,
  strides: number,
  opts: ResolvedBlockOptions,
): Tensor {
  if (mode === 'identity') return x;
  const name = (layer: BlockLayer) => blockLayerName(opts.name, layer);
  if (mode === 'zero-pad') {
    return new SubsampleZeroPad({ strides, filters: outChannels, name: name({ layer: 'shortcut' }) }).apply(
      x,
    ) as Tensor;
  }
  const projected = conv(
    opts.preactivation ? preactivated : x,
    { filters: outChannels, kernelSize: 1, strides, name: name({ layer: 'conv', conv: 0 }) },
    opts,
  );
  return opts.preactivation ? projected : batchNorm(projected, name({ layer: 'bn', conv: 0 }), opts);
}

/** Block options with every default filled in (from {@link BLOCK_DEFAULTS}). */
type ResolvedBlockOptions = BlockOptions & Required<Omit<BlockOptions, 'seed' | 'strides'>>;

function withDefaults(options: BlockOptions): ResolvedBlockOptions {
  return {
    ...options,
    shortcut: options.shortcut ?? BLOCK_DEFAULTS.shortcut,
    preactivation: options.preactivation ?? BLOCK_DEFAULTS.preactivation,
    zeroInitResidual: options.zeroInitResidual ?? BLOCK_DEFAULTS.zeroInitResidual,
    convBias: options.convBias ?? BLOCK_DEFAULTS.convBias,
    batchNorm: { ...BLOCK_DEFAULTS.batchNorm, ...options.batchNorm },
    fuseBatchNormRelu: options.fuseBatchNormRelu ?? BLOCK_DEFAULTS.fuseBatchNormRelu,
  };
}

interface BranchConv {
  filters: number;
  kernelSize: number;
  strides: number;
}

/**
 * One residual unit: the shared skeleton of basic and bottleneck blocks. v1: conv-BN-ReLU …
 * conv-BN, add, ReLU (`_add`, `_out`). v2: BN-ReLU (`_preact_*`) then conv-BN-ReLU … conv, add (`_out`).
 */
function residualUnit(x: Tensor, convs: BranchConv[], kind: ShortcutKind, options: BlockOptions): Tensor {
  const opts = withDefaults(options);
  const name = (layer: BlockLayer) => blockLayerName(opts.name, layer);
  const { preactivation, zeroInitResidual: zeroInit } = opts;
  const strides = Math.max(...convs.map((c) => c.strides));
  const outChannels = convs[convs.length - 1]!.filters;
  const mode = shortcutMode(kind, channelsOf(x), outChannels, strides);

  let preactivated = x;
  if (preactivation) {
    preactivated = batchNormRelu(x, name({ layer: 'preact_bn' }), name({ layer: 'preact_relu' }), opts);
  }
  const shortcut = shortcutPath(x, preactivated, mode, outChannels, strides, opts);

  let y = preactivated;
  convs.forEach((spec, i) => {
    const index = i + 1;
    const last = index === convs.length;
    y = conv(
      y,
      { ...spec, name: name({ layer: 'conv', conv: index }), zeroKernel: preactivation && last && zeroInit },
      opts,
    );
    if (preactivation && last) return;
    const bn = name({ layer: 'bn', conv: index });
    y = last
      ? batchNorm(y, bn, opts, !preactivation && zeroInit)
      : batchNormRelu(y, bn, name({ layer: 'relu', conv: index }), opts);
  });

  if (preactivation) return tfl.layers.add({ name: name({ layer: 'out' }) }).apply([shortcut, y]) as Tensor;
  const sum = tfl.layers.add({ name: name({ layer: 'add' }) }).apply([shortcut, y]) as Tensor;
  return relu(sum, name({ layer: 'out' }));
}

/** Two 3x3 convolutions (ResNet-18/34 and the CIFAR family). */
export function basicBlock(x: Tensor, options: BasicBlockOptions): Tensor {
  const filters = checkPositiveInteger('filters', options.filters);
  const strides = checkPositiveInteger('strides', options.strides ?? BLOCK_DEFAULTS.strides);
  return residualUnit(
    x,
    [
      { filters, kernelSize: 3, strides },
      { filters, kernelSize: 3, strides: 1 },
    ],
    options.shortcut ?? BLOCK_DEFAULTS.shortcut,
    options,
  );
}

function bottleneckConvs(
  filters: [number, number, number],
  kernelSize: number,
  strides: number,
  strideOn: StrideOn,
): BranchConv[] {
  return [
    { filters: filters[0], kernelSize: 1, strides: strideOn === '1x1' ? strides : 1 },
    { filters: filters[1], kernelSize, strides: strideOn === '3x3' ? strides : 1 },
    { filters: filters[2], kernelSize: 1, strides: 1 },
  ];
}

/** 1x1 → 3x3 → 1x1 with 4× expansion (ResNet-50/101/152). */
export function bottleneckBlock(x: Tensor, options: BottleneckBlockOptions): Tensor {
  const filters = checkPositiveInteger('filters', options.filters);
  const strides = checkPositiveInteger('strides', options.strides ?? BLOCK_DEFAULTS.strides);
  const out = filters * EXPANSION.bottleneck;
  return residualUnit(
    x,
    bottleneckConvs([filters, filters, out], 3, strides, options.strideOn ?? BLOCK_DEFAULTS.strideOn),
    options.shortcut ?? BLOCK_DEFAULTS.shortcut,
    options,
  );
}

function checkKerasFilters(filters: unknown): [number, number, number] {
  if (!Array.isArray(filters) || filters.length !== 3) {
    throw new ResNetConfigError('filters', `expected [f1, f2, f3], got ${JSON.stringify(filters)}`);
  }
  return filters.map((f, i) => checkPositiveInteger(`filters[${i}]`, f)) as [number, number, number];
}

/** The notebook's identity block: input and output shapes match, the shortcut is the input itself. */
export function identityBlock(x: Tensor, options: KerasBlockOptions): Tensor {
  const filters = checkKerasFilters(options.filters);
  const kernelSize = checkPositiveInteger(
    'kernelSize',
    options.kernelSize ?? KERAS_BLOCK_DEFAULTS.kernelSize,
  );
  if (channelsOf(x) !== filters[2]) {
    throw new ResNetConfigError(
      'filters',
      `identityBlock needs filters[2] (${filters[2]}) equal to the input channels (${channelsOf(x)}); use convBlock to change shape`,
    );
  }
  return residualUnit(x, bottleneckConvs(filters, kernelSize, 1, '1x1'), 'B', options);
}

/** The notebook's convolutional block: a projection shortcut (1x1 conv + BN) and a stride. */
export function convBlock(x: Tensor, options: ConvBlockOptions): Tensor {
  const filters = checkKerasFilters(options.filters);
  const kernelSize = checkPositiveInteger(
    'kernelSize',
    options.kernelSize ?? KERAS_BLOCK_DEFAULTS.kernelSize,
  );
  const strides = checkPositiveInteger('strides', options.strides ?? KERAS_BLOCK_DEFAULTS.strides);
  return residualUnit(
    x,
    bottleneckConvs(filters, kernelSize, strides, options.strideOn ?? KERAS_BLOCK_DEFAULTS.strideOn),
    'C',
    options,
  );
}

/** `blocks` blocks of one kind; the first carries the stride (and so the shortcut change). */
export function stage(x: Tensor, options: StageOptions): Tensor {
  const blocks = checkPositiveInteger('blocks', options.blocks);
  const build =
    options.block === 'bottleneck' ? bottleneckBlock : options.block === 'basic' ? basicBlock : undefined;
  if (!build) {
    throw new ResNetConfigError(
      'block',
      `expected 'basic' or 'bottleneck', got ${JSON.stringify(options.block)}`,
    );
  }
  let y = x;
  for (let i = 0; i < blocks; i++) {
    y = build(y, {
      ...options,
      name: blockName(options.name, i + 1),
      strides: i === 0 ? options.strides : 1,
    });
  }
  return y;
}
