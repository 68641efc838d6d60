import type * as tfl from '@tensorflow/tfjs-layers';
import { type ResNetConfig, resolveResNetConfig } from './config';
import { ResNetConfigError } from './errors';
import { withPlaceholderWeights } from './layer-helpers';
import { buildFromResolved } from './resnet';

export interface ParamCounts {
  trainable: number;
  nonTrainable: number;
  total: number;
}

// Weight shapes are always fully known; positions are checked for null before use.
const sizeOf = (shape: readonly (number | null)[]): number => shape.reduce<number>((a, b) => a * (b ?? 1), 1);

export function countParams(model: tfl.LayersModel): ParamCounts {
  const trainable = model.trainableWeights.reduce((n, w) => n + sizeOf(w.shape), 0);
  const nonTrainable = model.nonTrainableWeights.reduce((n, w) => n + sizeOf(w.shape), 0);
  return { trainable, nonTrainable, total: trainable + nonTrainable };
}

/** A model or a ResNet config: anything `countFlops` can measure. */
export type FlopsSubject = tfl.LayersModel | ResNetConfig;

function isModel(subject: FlopsSubject): subject is tfl.LayersModel {
  return (
    typeof (subject as tfl.LayersModel).predict === 'function' &&
    Array.isArray((subject as tfl.LayersModel).layers)
  );
}

function flopsOfModel(model: tfl.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const kernel = layer.weights.find(
      (w) => /(^|\/)(depthwise_)?kernel/.test(w.originalName) || w.name.endsWith('kernel'),
    );
    if (!kernel) continue;
    const out = (Array.isArray(layer.outputShape[0]) ? layer.outputShape[0] : layer.outputShape) as (
      | number
      | null
    )[];
    const positions = out.slice(1, -1);
    if (positions.some((d) => d == null)) {
      throw new ResNetConfigError(
        'inputShape',
        `${layer.name} has an unknown output size ${JSON.stringify(out)}; FLOPs need a fixed input size`,
      );
    }
    total += sizeOf(kernel.shape) * sizeOf(positions);
  }
  return total;
}

/**
 * Multiply-adds of one forward pass of one image through every convolution and dense layer: the
 * convention of He et al. and torchvision (BN, activations, pooling and additions are not counted).
 * Given a config, the model is built with placeholder weights and disposed.
 */
export function countFlops(subject: FlopsSubject): number {
  if (isModel(subject)) return flopsOfModel(subject);
  const resolved = resolveResNetConfig(subject);
  const model = withPlaceholderWeights(() => buildFromResolved(resolved));
  try {
    return flopsOfModel(model);
  } finally {
    model.dispose();
  }
}

/** Keras-style layer table followed by parameter and FLOP totals. */
export function summary(model: tfl.LayersModel, lineLength = 120): string {
  const lines: string[] = [];
  model.summary(lineLength, [0.4, 0.65, 0.77, 1], (...message: unknown[]) => lines.push(message.join(' ')));
  const params = countParams(model);
  let flops: string;
  try {
    flops = `${(flopsOfModel(model) / 1e9).toFixed(3)} G multiply-adds per image`;
  } catch {
    flops = 'unknown (variable input size)';
  }
  lines.push(`FLOPs: ${flops}`);
  lines.push(
    `Parameters: ${params.total.toLocaleString('en-US')} (${params.trainable.toLocaleString('en-US')} trainable)`,
  );
  return lines.join('\n');
}
