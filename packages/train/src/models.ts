import {
  type AlexNetConfig,
  buildAlexNet,
  buildResNet,
  type ResNetConfig,
  resolveResNetConfig,
} from '@resnet-ts/resnet-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from './config';

export interface ModelRequest {
  /** `resnet<depth>` or `alexnet`. */
  model: string;
  numClasses: number;
  inputSize: [number, number];
  seed: number;
  /** Extra builder options (shortcut, width, preactivation, dropout, …). */
  options?: Record<string, unknown>;
}

/**
 * Builds the network a run trains; its classifier returns logits (exported models get softmax). A
 * ResNet's batch norm + ReLU pairs are single layers unless `options.fuseBatchNormRelu` is false.
 */
export function buildModel(request: ModelRequest): tfl.LayersModel {
  const inputShape: [number, number, number] = [request.inputSize[0], request.inputSize[1], 3];
  const common = {
    numClasses: request.numClasses,
    inputShape,
    seed: request.seed,
    classifierActivation: 'linear' as const,
  };
  if (request.model === 'alexnet') {
    return buildAlexNet({ ...(request.options as Partial<AlexNetConfig>), ...common });
  }
  const match = /^resnet(\d+)$/.exec(request.model);
  if (!match) {
    throw new ConfigError(
      `model: expected resnet<depth> (resnet20, resnet56, resnet18, resnet50, …) or alexnet, got "${request.model}"`,
    );
  }
  // Fused batch norm + ReLU trains faster on backends with the kernel; exports are written unfused.
  return buildResNet({
    fuseBatchNormRelu: true,
    ...(request.options as Partial<ResNetConfig>),
    ...common,
    depth: Number(match[1]),
  });
}

const IMAGENET_DEPTHS = [10, 18, 34, 50, 101, 152, 200];

/** The usual input size, batch and class count of a named model (CIFAR, ImageNet or AlexNet). */
export function modelDefaults(
  model: string,
  /** Builder options the model is made with (a bottleneck block allows other depths). */
  options: Record<string, unknown> = {},
): {
  size: number;
  batch: number;
  classes: number;
  shortcut: string;
} {
  if (model === 'alexnet') return { size: 227, batch: 32, classes: 1000, shortcut: '-' };
  const depth = Number(/^resnet(\d+)$/.exec(model)?.[1] ?? Number.NaN);
  if (Number.isNaN(depth)) {
    throw new ConfigError(`model: expected resnet<depth> or alexnet, got "${model}"`);
  }
  try {
    resolveResNetConfig({ ...options, depth }); // a depth no ResNet has fails here, before any work
  } catch (error) {
    throw new ConfigError(`model: ${model}: ${(error as Error).message}`);
  }
  return IMAGENET_DEPTHS.includes(depth)
    ? { size: 224, batch: 32, classes: 1000, shortcut: 'B' }
    : { size: 32, batch: 128, classes: 10, shortcut: 'A' };
}
