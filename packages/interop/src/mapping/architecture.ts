import { IMAGENET_DEPTHS, type ResNetConfig, type ShortcutKind } from '@resnet-ts/resnet-core';
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

const STEM = { imagenet: 64, cifar: 16 };

/** The resnet-core config of an observed network; every mismatch names what the file holds. */
export function configFromArchitecture(seen: ObservedArchitecture, file: string): ResNetConfig {
  const { family, bottleneck, blocksPerStage } = seen;
  const block = bottleneck ? 'bottleneck' : 'basic';
  let depth: number;
  if (family === 'imagenet') {
    const found = Object.entries(IMAGENET_DEPTHS).find(
      ([, spec]) => spec.block === block && spec.blocksPerStage.join() === blocksPerStage.join(),
    );
    if (!found) {
      throw new WeightFileError(
        file,
        `holds ${block} blocks per stage ${blocksPerStage.join(', ')}, which is no ImageNet ResNet depth (${Object.keys(IMAGENET_DEPTHS).join(', ')})`,
      );
    }
    depth = Number(found[0]);
  } else {
    const n = blocksPerStage[0] as number;
    if (blocksPerStage.length !== 3 || blocksPerStage.some((b) => b !== n)) {
      throw new WeightFileError(
        file,
        `holds a CIFAR-style stem with blocks per stage ${blocksPerStage.join(', ')}; a CIFAR ResNet has 3 stages of equal length`,
      );
    }
    depth = bottleneck ? 9 * n + 2 : 6 * n + 2;
  }
  // Option A has no projections, B only where the shape changes, C everywhere.
  const all = seen.projections.flat();
  const shortcut: ShortcutKind = all.every(Boolean) ? 'C' : all.some(Boolean) ? 'B' : 'A';
  const width = seen.firstWidth / STEM[family];
  return { depth, family, block, shortcut, width, numClasses: seen.numClasses };
}

/** `resnet50`-style name of a config's depth. */
export const depthName = (config: ResNetConfig) => `resnet${config.depth}`;
