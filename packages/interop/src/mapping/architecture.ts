import {
  CIFAR_STAGE_FILTERS,
  depthOfStages,
  IMAGENET_DEPTHS,
  IMAGENET_STAGE_FILTERS,
  type ResNetConfig,
  resnetName,
  type ShortcutKind,
} from '@resnet-ts/resnet-core';
import { WeightFileError } from '../errors';

/** The facts a weight file shows about its network, from which the resnet-core config follows. */
export interface ObservedArchitecture {
  family: 'imagenet' | 'cifar';
  bottleneck: boolean;
  blocksPerStage: number[];
  /** For each stage, whether each block has a projection shortcut. */
  projections: boolean[][];
  /** Channels of the first block's first convolution (a bottleneck's inner width). */
  firstWidth: number;
  numClasses: number;
}

/** Channels of the first stage at width 1. */
const FIRST_WIDTH = { imagenet: IMAGENET_STAGE_FILTERS[0], cifar: CIFAR_STAGE_FILTERS[0] };

/** The resnet-core config of an observed network; every mismatch names what the file holds. */
export function configFromArchitecture(seen: ObservedArchitecture, file: string): ResNetConfig {
  const { family, bottleneck, blocksPerStage } = seen;
  const block = bottleneck ? 'bottleneck' : 'basic';
  const depth = depthOfStages(family, block, blocksPerStage);
  if (depth === undefined && family === 'imagenet') {
    throw new WeightFileError(
      file,
      `holds ${block} blocks per stage ${blocksPerStage.join(', ')}, which is no ImageNet ResNet depth (${Object.keys(IMAGENET_DEPTHS).join(', ')})`,
    );
  }
  if (depth === undefined) {
    throw new WeightFileError(
      file,
      `holds a CIFAR-style stem with blocks per stage ${blocksPerStage.join(', ')}; a CIFAR ResNet has 3 stages of equal length`,
    );
  }
  // Option A has no projections, B only where the shape changes, C everywhere.
  const all = seen.projections.flat();
  const shortcut: ShortcutKind = all.every(Boolean) ? 'C' : all.some(Boolean) ? 'B' : 'A';
  const width = seen.firstWidth / FIRST_WIDTH[family];
  return { depth, family, block, shortcut, width, numClasses: seen.numClasses };
}

/** `resnet50`-style name of a config's depth. */
export const depthName = (config: ResNetConfig) => resnetName(config.depth);
