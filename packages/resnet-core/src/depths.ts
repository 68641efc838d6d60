/** Residual block kinds: `basic` = two 3x3 convolutions, `bottleneck` = 1x1 → 3x3 → 1x1 (×4 channels). */
export type BlockKind = 'basic' | 'bottleneck';

export interface DepthSpec {
  block: BlockKind;
  /** Blocks in each of the four ImageNet stages (conv2_x … conv5_x). */
  blocksPerStage: readonly [number, number, number, number];
}

/**
 * The ImageNet family (He et al. 2015, table 1; plus ResNet-10 from timm and ResNet-200 from
 * He et al. 2016). The single source of truth for depth → architecture.
 */
export const IMAGENET_DEPTHS: Readonly<Record<number, DepthSpec>> = {
  10: { block: 'basic', blocksPerStage: [1, 1, 1, 1] },
  18: { block: 'basic', blocksPerStage: [2, 2, 2, 2] },
  34: { block: 'basic', blocksPerStage: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocksPerStage: [3, 4, 6, 3] },
  101: { block: 'bottleneck', blocksPerStage: [3, 4, 23, 3] },
  152: { block: 'bottleneck', blocksPerStage: [3, 8, 36, 3] },
  200: { block: 'bottleneck', blocksPerStage: [3, 24, 36, 3] },
};

/** Base filters of the ImageNet stages and of the CIFAR stages (He et al. 2015, section 4.2). */
export const IMAGENET_STAGE_FILTERS = [64, 128, 256, 512] as const;
export const CIFAR_STAGE_FILTERS = [16, 32, 64] as const;
export const IMAGENET_STEM_FILTERS = 64;
export const CIFAR_STEM_FILTERS = 16;

/** Layers per CIFAR block: 2 for basic (depth = 6n+2), 3 for bottleneck (depth = 9n+2). */
export const CIFAR_LAYERS_PER_BLOCK: Readonly<Record<BlockKind, number>> = { basic: 2, bottleneck: 3 };

/** Output channels = filters × expansion. */
export const EXPANSION: Readonly<Record<BlockKind, number>> = { basic: 1, bottleneck: 4 };

/** Blocks per CIFAR stage for a depth, or undefined when the depth does not fit the 6n+2 / 9n+2 rule. */
export function cifarBlocksPerStage(depth: number, block: BlockKind): number | undefined {
  const perStage = 3 * CIFAR_LAYERS_PER_BLOCK[block];
  const n = (depth - 2) / perStage;
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * Example CIFAR depths of each block kind (He et al. 2015 and 2016), for messages and help texts:
 * every 6n+2 (basic) or 9n+2 (bottleneck) depth builds.
 */
export const CIFAR_EXAMPLE_DEPTHS: Readonly<Record<BlockKind, readonly number[]>> = {
  basic: [20, 32, 44, 56, 110],
  bottleneck: [29, 56, 110, 164],
};

/**
 * The depth of the ResNet with these blocks per stage, or undefined when no ResNet of the family
 * has them: the inverse of the depth table (imagenet) and of the 6n+2 / 9n+2 rule (cifar, three
 * equal stages).
 */
export function depthOfStages(
  family: 'imagenet' | 'cifar',
  block: BlockKind,
  blocksPerStage: readonly number[],
): number | undefined {
  if (family === 'imagenet') {
    const found = Object.entries(IMAGENET_DEPTHS).find(
      ([, spec]) => spec.block === block && spec.blocksPerStage.join() === blocksPerStage.join(),
    );
    return found ? Number(found[0]) : undefined;
  }
  const n = blocksPerStage[0];
  if (blocksPerStage.length !== 3 || n === undefined || n < 1 || blocksPerStage.some((b) => b !== n)) {
    return undefined;
  }
  return 3 * CIFAR_LAYERS_PER_BLOCK[block] * n + 2;
}
