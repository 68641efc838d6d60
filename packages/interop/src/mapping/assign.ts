import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { WeightFileError } from '../errors';
import type { SourceTensor, SourceTensors } from '../tensors';

/** Where one weight of a resnet-core layer comes from in the file, and how its layout changes. */
export interface WeightRef {
  key: string;
  convert?: (tensor: SourceTensor) => SourceTensor;
}

/** A naming scheme: the file's keys for each resnet-core layer's weights, in the layer's order. */
export interface LayerWeightSource {
  /** What a key is, for errors: `state dict key`, `Keras weight`. */
  kind: string;
  lookup(layer: string, className: string, count: number): WeightRef[] | undefined;
  /** Keys the file may hold that have no counterpart (PyTorch's num_batches_tracked). */
  ignored(key: string): boolean;
}

const listed = (items: string[], max = 4) =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

/**
 * Checks every weight of `model` against the file — a missing, extra or mis-shaped tensor is named —
 * and only then sets them all. `modelName` names the architecture in errors.
 */
export function assignWeights(
  model: tfl.LayersModel,
  tensors: SourceTensors,
  source: LayerWeightSource,
  file: string,
  modelName: string,
): void {
  const missing: string[] = [];
  const misshaped: string[] = [];
  const used = new Set<string>();
  const plan: { layer: tfl.layers.Layer; values: SourceTensor[] }[] = [];
  for (const layer of model.layers) {
    const weights = layer.weights;
    if (weights.length === 0) continue;
    const refs = source.lookup(layer.name, layer.getClassName(), weights.length);
    if (!refs || refs.length !== weights.length) {
      throw new WeightFileError(
        file,
        `resnet-core layer ${layer.name} (${layer.getClassName()}) has no counterpart in this format`,
      );
    }
    const values: SourceTensor[] = [];
    refs.forEach((ref, i) => {
      const found = tensors.get(ref.key);
      if (!found) {
        missing.push(ref.key);
        return;
      }
      used.add(ref.key);
      const tensor = ref.convert ? ref.convert(found) : found;
      const expected = weights[i]?.shape as number[];
      if (tensor.shape.join() !== expected.join()) {
        misshaped.push(
          `${ref.key} is [${found.shape}] where ${modelName} needs [${ref.convert ? `${expected}] after the layout change` : `${expected}]`}`,
        );
      }
      values.push(tensor);
    });
    plan.push({ layer, values });
  }
  const extra = [...tensors.keys()].filter((key) => !used.has(key) && !source.ignored(key));
  const problems = [
    missing.length ? `missing ${listed(missing)}` : '',
    extra.length ? `unexpected ${listed(extra)}` : '',
    misshaped.length ? listed(misshaped, 2) : '',
  ].filter(Boolean);
  if (problems.length) throw new WeightFileError(file, `does not fit ${modelName}: ${problems.join('; ')}`);
  for (const { layer, values } of plan) {
    const created = values.map((v) => tf.tensor(v.values, v.shape, 'float32'));
    layer.setWeights(created);
    tf.dispose(created);
  }
}
