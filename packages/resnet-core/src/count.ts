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

const SUMMARY_HEADERS = ['Layer (type)', 'Input Shape', 'Output shape', 'Param #', 'Receives inputs'];

/**
 * Where each column of tfjs's summary table ends, each as wide as its widest cell: tfjs cuts a cell
 * at its column's end (and blanks the cell's last character), so fixed fractions of a line cut the
 * shapes of wide layers (`[null,56,56,6`).
 */
function summaryColumns(model: tfl.LayersModel): number[] {
  const widths = SUMMARY_HEADERS.map((header) => header.length);
  const fit = (column: number, text: string) => {
    widths[column] = Math.max(widths[column] as number, text.length);
  };
  for (const layer of model.layers) {
    fit(0, `${layer.name} (${layer.getClassName()})`);
    // As tfjs writes the cells (and 'multiple' where it cannot).
    try {
      fit(1, layer.inboundNodes.map((node) => JSON.stringify(node.inputShapes)).join(','));
    } catch {
      fit(1, 'multiple');
    }
    try {
      fit(2, JSON.stringify(layer.outputShape));
    } catch {
      fit(2, 'multiple');
    }
    fit(3, String(layer.countParams()));
    for (const node of layer.inboundNodes) {
      node.inboundLayers.forEach((inbound, i) => {
        fit(4, `${inbound.name}[${node.nodeIndices[i]}][${node.tensorIndices[i]}]`);
      });
    }
  }
  // One more than the widest cell: the blanked last character becomes the gap between columns.
  let end = 0;
  return widths.map((width) => {
    end += width + 1;
    return end;
  });
}

/** Keras-style layer table followed by parameter and FLOP totals; no cell is cut. */
export function summary(model: tfl.LayersModel): string {
  const positions = summaryColumns(model);
  const lines: string[] = [];
  model.summary(positions.at(-1), positions, (...message: unknown[]) =>
    lines.push(message.join(' ').trimEnd()),
  );
  // A sequential-like model (AlexNet) has no 'Receives inputs' column: rules end with its last one.
  if (!lines[1]?.includes(SUMMARY_HEADERS[4] as string)) {
    const end = positions[3] as number;
    for (const [i, line] of lines.entries()) if (/^[_=]+$/.test(line)) lines[i] = line.slice(0, end);
  }
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
