import { unzipSync } from 'fflate';
import * as hdf5 from 'jsfive';
import { WeightFileError } from '../errors';
import type { SourceDtype, SourceTensor } from '../tensors';

/** A Keras weight file's weights by layer name, each layer's in Keras order (kernel, bias; gamma, beta, mean, variance). */
export type KerasLayerWeights = Map<string, SourceTensor[]>;

export const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

const DTYPES: Record<string, SourceDtype> = { '<f4': 'float32', '<f8': 'float64', '<f2': 'float16' };

const isGroup = (node: unknown): node is hdf5.Group =>
  node instanceof hdf5.Group && !(node instanceof hdf5.Dataset);
const isDataset = (node: unknown): node is hdf5.Dataset => node instanceof hdf5.Dataset;

function tensorOf(node: unknown, file: string, where: string): SourceTensor {
  if (!isDataset(node)) throw new WeightFileError(file, `${where} is not a dataset`);
  const dtype = typeof node.dtype === 'string' ? DTYPES[node.dtype] : undefined;
  if (!dtype)
    throw new WeightFileError(
      file,
      `${where} has type ${JSON.stringify(node.dtype)}, not a float type read here`,
    );
  let values: Float32Array;
  try {
    values = Float32Array.from(node.value);
  } catch (error) {
    throw new WeightFileError(
      file,
      `${where} cannot be read (truncated or damaged: ${(error as Error).message})`,
    );
  }
  return { dtype, shape: [...node.shape], values };
}

const names = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.map(String)
    : ArrayBuffer.isView(value)
      ? []
      : typeof value === 'string'
        ? [value]
        : [];

/**
 * Reads Keras weights: a Keras 3 `.weights.h5` (`layers/<key>/vars/<i>`, the layer's name in an
 * attribute), a legacy `.h5` (`model.save`/`save_weights` of Keras 2 or 3: `layer_names` and
 * `weight_names` attributes, as keras.applications' published files), or a `.keras` archive (its
 * `model.weights.h5`). The file is read with jsfive, a pure-JS HDF5 reader.
 */
export function readKerasWeights(bytes: Uint8Array, file: string): KerasLayerWeights {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes, { filter: (entry) => entry.name === 'model.weights.h5' });
    } catch (error) {
      throw new WeightFileError(
        file,
        `the .keras archive is damaged or truncated (${(error as Error).message})`,
      );
    }
    const weights = entries['model.weights.h5'];
    if (!weights)
      throw new WeightFileError(file, 'a zip archive without model.weights.h5, so not a .keras model');
    return readKerasWeights(weights, `${file}:model.weights.h5`);
  }
  if (!HDF5_MAGIC.every((byte, i) => bytes[i] === byte)) {
    throw new WeightFileError(file, 'not an HDF5 file (Keras .h5 / .weights.h5)');
  }
  let root: hdf5.File;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    root = new hdf5.File(buffer, file);
  } catch (error) {
    throw new WeightFileError(file, `the HDF5 file is damaged or truncated (${(error as Error).message})`);
  }
  const layers: KerasLayerWeights = new Map();
  try {
    // jsfive throws (not null) for a missing path: look before getting.
    const keras3 = root.keys.includes('layers') ? root.get('layers') : null;
    if (isGroup(keras3) && !('layer_names' in root.attrs)) {
      // Paths are resolved from the group already opened: jsfive re-reads every group on a path.
      for (const key of keras3.keys) {
        const layer = keras3.get(key);
        const vars = isGroup(layer) && layer.keys.includes('vars') ? layer.get('vars') : null;
        if (!isGroup(vars)) continue;
        const name = typeof vars.attrs.name === 'string' ? vars.attrs.name : key;
        const order = vars.keys.filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
        if (order.length === 0) continue;
        layers.set(
          name,
          order.map((i) => tensorOf(vars.get(i), file, `layers/${key}/vars/${i}`)),
        );
      }
      return layers;
    }
    const modelWeights = root.keys.includes('model_weights') ? root.get('model_weights') : null;
    const group = isGroup(modelWeights) ? modelWeights : root;
    const prefix = isGroup(modelWeights) ? 'model_weights/' : '';
    const layerNames = names(group.attrs.layer_names);
    if (layerNames.length === 0) {
      throw new WeightFileError(
        file,
        'an HDF5 file without Keras weights (no layers/ group and no layer_names attribute)',
      );
    }
    for (const layer of layerNames) {
      const node = group.keys.includes(layer) ? group.get(layer) : null;
      if (!isGroup(node))
        throw new WeightFileError(file, `layer ${layer} is listed but its group is missing (truncated?)`);
      const weightNames = names(node.attrs.weight_names);
      if (weightNames.length === 0) continue;
      layers.set(
        layer,
        weightNames.map((w) => tensorOf(node.get(w), file, `${prefix}${layer}/${w}`)),
      );
    }
    return layers;
  } catch (error) {
    if (error instanceof WeightFileError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new WeightFileError(file, `the HDF5 file is damaged or truncated (${reason})`);
  }
}
