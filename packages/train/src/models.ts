import {
  type AlexNetConfig,
  buildAlexNet,
  buildResNet,
  type ModelIdentity,
  parseModelName,
  type ResNetConfig,
  ResNetConfigError,
} from '@resnet-ts/resnet-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from './config';

export interface ModelRequest {
  /** `resnet<depth>` or `alexnet` (resnet-core's `parseModelName`). */
  model: string;
  numClasses: number;
  inputSize: [number, number];
  seed: number;
  /** Extra builder options (shortcut, width, preactivation, dropout, …). */
  options?: Record<string, unknown>;
}

/** resnet-core's reading of a model name (with its builder options); a bad one is a ConfigError. */
function identify(model: string, options: Record<string, unknown> = {}): ModelIdentity {
  try {
    return parseModelName(model, options);
  } catch (error) {
    if (error instanceof ResNetConfigError) throw new ConfigError(error.message);
    throw error;
  }
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
  // Fused batch norm + ReLU trains faster on backends with the kernel; exports are written unfused.
  const config = { fuseBatchNormRelu: true, ...request.options, ...common };
  const identity = identify(request.model, config); // AlexNet's options are buildAlexNet's to check
  if (identity.kind === 'alexnet') {
    return buildAlexNet({ ...(request.options as Partial<AlexNetConfig>), ...common });
  }
  return buildResNet({ ...(config as Partial<ResNetConfig>), depth: identity.depth });
}

/**
 * The usual input size, batch and class count of a named model (CIFAR, ImageNet or AlexNet), from
 * resnet-core's `parseModelName`; the batch is this package's choice (128 for CIFAR, else 32).
 */
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
  const identity = identify(model, options); // a depth no ResNet has fails here, before any work
  return {
    size: identity.defaults.inputShape[0],
    batch: identity.family === 'cifar' ? 128 : 32,
    classes: identity.defaults.numClasses,
    shortcut: identity.kind === 'resnet' ? identity.resolved.shortcut : '-',
  };
}
