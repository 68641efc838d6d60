/**
 * Every layer name of a resnet-core ResNet, built and read back in one place. The names are the
 * weight-file contract (`model.json`, converted Keras weights, the torchvision mapping), and follow
 * `keras.applications.resnet`: see the README's "Naming contract".
 */

/** Number of the first stage in layer names: `conv1` is the stem, stages are `conv2` … `conv5`. */
export const FIRST_STAGE = 2;

/** Layers of a branch convolution, or (convolution 0) of the projection shortcut. */
export type BranchLayer = 'conv' | 'bn' | 'relu' | 'pad';

/** The stock layers an option-A shortcut is exported as (the last, a Permute, keeps the shortcut's name). */
export type StockShortcutLayer = 'subsample' | 'channels_first' | 'pad';

/** A layer of a residual block, by its place in the block (the part of its name after the block's prefix). */
export type BlockLayer =
  /** `<prefix>_<conv>_<layer>`: convolution `conv` (1-based) of the residual branch; 0 is the projection shortcut. */
  | { layer: BranchLayer; conv: number }
  /** `<prefix>_0_shortcut` (option A), and `<prefix>_0_shortcut_<stock>` for the stock layers it is exported as. */
  | { layer: 'shortcut'; stock?: StockShortcutLayer }
  /** `<prefix>_preact_bn`, `<prefix>_preact_relu` (v2), `<prefix>_add`, `<prefix>_out`. */
  | { layer: 'preact_bn' | 'preact_relu' | 'add' | 'out' };

/** Where a layer sits in a resnet-core ResNet; {@link layerName} writes it, {@link parseLayerName} reads it. */
export type LayerSpec =
  /** `input_1` */
  | { at: 'input' }
  /** `conv1_pad`, `conv1_conv`, `conv1_bn`, `conv1_relu` */
  | { at: 'stem'; layer: BranchLayer }
  /** `pool1_pad`, `pool1_pool` (the ImageNet stem's max-pool) */
  | { at: 'pool1'; layer: 'pad' | 'pool' }
  /** `conv<stage>_block<block>_…`: stage from {@link FIRST_STAGE}, block from 1 */
  | ({ at: 'block'; stage: number; block: number } & BlockLayer)
  /** `post_bn`, `post_relu` (v2, before pooling) */
  | { at: 'post'; layer: 'bn' | 'relu' }
  /** `avg_pool`, `max_pool`, `top_dropout`, `predictions` */
  | { at: 'top'; layer: 'avg_pool' | 'max_pool' | 'top_dropout' | 'predictions' };

const STEM = 'conv1';
const POOL = 'pool1';
const INPUT = 'input_1';

function count(what: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`layer name: ${what} must be an integer of at least ${min}, got ${value}`);
  }
  return value;
}

/** A stage's name prefix: `conv2` for the first stage (`stage` counts from {@link FIRST_STAGE}). */
export const stageName = (stage: number) => `conv${count('stage', stage, FIRST_STAGE)}`;

/** A block's name prefix within a stage: `conv2_block1` (`block` counts from 1). */
export const blockName = (stagePrefix: string, block: number) =>
  `${stagePrefix}_block${count('block', block, 1)}`;

/** The stock layers an option-A shortcut named `shortcut` is written as (see `stockSubsampleZeroPad`). */
export const stockShortcutName = (shortcut: string, stock: StockShortcutLayer) => `${shortcut}_${stock}`;

/** A layer of the residual block whose prefix is `prefix` (`conv2_block1`, or a name of your own). */
export function blockLayerName(prefix: string, layer: BlockLayer): string {
  if (layer.layer === 'shortcut') {
    const name = `${prefix}_0_shortcut`;
    return layer.stock ? stockShortcutName(name, layer.stock) : name;
  }
  if ('conv' in layer) return `${prefix}_${count('conv', layer.conv, 0)}_${layer.layer}`;
  return `${prefix}_${layer.layer}`;
}

/** The name of a layer of a resnet-core ResNet. */
export function layerName(spec: LayerSpec): string {
  switch (spec.at) {
    case 'input':
      return INPUT;
    case 'stem':
      return `${STEM}_${spec.layer}`;
    case 'pool1':
      return `${POOL}_${spec.layer}`;
    case 'block':
      return blockLayerName(blockName(stageName(spec.stage), spec.block), spec);
    case 'post':
      return `post_${spec.layer}`;
    case 'top':
      return spec.layer;
  }
}

/** The zero-padding layer before a strided convolution: `conv3_block1_2_conv` → `conv3_block1_2_pad`. */
export const padNameOf = (convName: string) =>
  `${convName.endsWith('_conv') ? convName.slice(0, -'_conv'.length) : convName}_pad`;

/** The ReLU after a batch norm: `conv1_bn` → `conv1_relu`. */
export const reluNameOf = (bnName: string) =>
  `${bnName.endsWith('_bn') ? bnName.slice(0, -'_bn'.length) : bnName}_relu`;

const NUMBER = '(0|[1-9]\\d*)';
const BLOCK = new RegExp(`^conv${NUMBER}_block${NUMBER}_(.+)$`);
const BRANCH = new RegExp(`^${NUMBER}_(conv|bn|relu|pad)$`);
const SHORTCUT = /^0_shortcut(?:_(subsample|channels_first|pad))?$/;
const BLOCK_LAYERS = ['preact_bn', 'preact_relu', 'add', 'out'] as const;
const TOP_LAYERS = ['avg_pool', 'max_pool', 'top_dropout', 'predictions'] as const;

function parseBlockLayer(rest: string): BlockLayer | undefined {
  const branch = BRANCH.exec(rest);
  if (branch) return { layer: branch[2] as BranchLayer, conv: Number(branch[1]) };
  const shortcut = SHORTCUT.exec(rest);
  if (shortcut) {
    return shortcut[1]
      ? { layer: 'shortcut', stock: shortcut[1] as StockShortcutLayer }
      : { layer: 'shortcut' };
  }
  const other = BLOCK_LAYERS.find((layer) => layer === rest);
  return other ? { layer: other } : undefined;
}

/**
 * Where the layer called `name` sits in a resnet-core ResNet, or undefined when no resnet-core
 * ResNet has a layer of that name. The inverse of {@link layerName}:
 * `layerName(parseLayerName(name)) === name` for every name it reads.
 */
export function parseLayerName(name: string): LayerSpec | undefined {
  if (name === INPUT) return { at: 'input' };
  const block = BLOCK.exec(name);
  if (block) {
    const stage = Number(block[1]);
    const index = Number(block[2]);
    const layer = parseBlockLayer(block[3] as string);
    if (!layer || stage < FIRST_STAGE || index < 1) return undefined;
    return { at: 'block', stage, block: index, ...layer };
  }
  const [scope, ...rest] = name.split('_');
  const part = rest.join('_');
  if (scope === STEM && ['pad', 'conv', 'bn', 'relu'].includes(part)) {
    return { at: 'stem', layer: part as BranchLayer };
  }
  if (scope === POOL && (part === 'pad' || part === 'pool')) return { at: 'pool1', layer: part };
  if (scope === 'post' && (part === 'bn' || part === 'relu')) return { at: 'post', layer: part };
  const top = TOP_LAYERS.find((layer) => layer === name);
  return top ? { at: 'top', layer: top } : undefined;
}
