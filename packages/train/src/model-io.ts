import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { splitBatchNormRelu, stockSubsampleZeroPad } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readJson, writeFileAtomic } from './files';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
/** Key in `userDefinedMetadata`: SHA-256 (hex) of each weight file, by its path in the manifest. */
const CHECKSUMS = 'weightsSha256';

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

export interface SaveModelOptions {
  /** Rewrite the `predictions` layer's activation (train on logits, ship probabilities). */
  outputActivation?: 'softmax' | 'linear';
  /**
   * Write each `ResNetBatchNormReLU` layer as the BatchNormalization + ReLU Activation pair it
   * stands for (`x_bn` → `x_bn`, `x_relu`): same weights, stock layer classes only (resnet-core's
   * `splitBatchNormRelu`).
   */
  unfuseBatchNormRelu?: boolean;
  /**
   * Write each option-A shortcut (`ResNetSubsampleZeroPad`, keyed by layer name, valued by its input
   * channels) as stock layers — a 1×1 average pool with the stride, then Permute, ZeroPadding2D on
   * the channel axis and Permute back — so that plain `tf.loadLayersModel` (and Keras) load the
   * model without this project's layer registered. The last layer keeps the name; same outputs
   * (resnet-core's `stockSubsampleZeroPad`; `subsampleZeroPadChannels(model)` gives the map).
   */
  stockShortcuts?: ReadonlyMap<string, number>;
}

/**
 * A TensorFlow.js IO handler on the local file system: `model.json` + `weights.bin` in `dir`, the
 * standard layers format (loadable by `tf.loadLayersModel` in tfjs-node and, served over HTTP, in
 * the browser). Needs no tfjs-node.
 */
export function fileSystem(dir: string, options: SaveModelOptions = {}): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (!artifacts.weightSpecs || artifacts.weightData === undefined) {
        throw new Error(`${dir}: model artifacts have no weights to save`);
      }
      const topology = structuredClone(artifacts.modelTopology) as Record<string, unknown>;
      if (options.outputActivation) setOutputActivation(topology, options.outputActivation);
      if (options.unfuseBatchNormRelu) splitBatchNormRelu(topology);
      if (options.stockShortcuts) stockSubsampleZeroPad(topology, options.stockShortcuts);
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const json: ModelJson = {
        modelTopology: topology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
        // Loading checks the weights against it: a damaged or replaced file is named, not run.
        userDefinedMetadata: {
          ...artifacts.userDefinedMetadata,
          [CHECKSUMS]: { [WEIGHTS_FILE]: sha256(weights) },
        },
      };
      // Weights first: a model.json always points at complete weights.
      await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weights);
      await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = path.join(dir, MODEL_FILE);
      const json = await readJson<ModelJson>(file);
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new Error(`${file}: not a TensorFlow.js layers model (no modelTopology/weightsManifest)`);
      }
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const shards = await Promise.all(
        json.weightsManifest.flatMap((group) =>
          group.paths.map(async (p) => {
            const shard = path.join(dir, p);
            const data = await readFile(shard).catch(() => {
              throw new Error(`${shard}: weight file listed in ${file} is missing`);
            });
            return { p, shard, data };
          }),
        ),
      );
      const weightData = tf.io.CompositeArrayBuffer.join(
        shards.map(
          ({ data }) => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
        ),
      );
      const expected = weightSpecs.reduce(
        (sum, spec) =>
          sum +
          spec.shape.reduce((a, b) => a * b, 1) *
            (spec.dtype === 'float32' || spec.dtype === 'int32' ? 4 : 1),
        0,
      );
      if (weightData.byteLength !== expected) {
        throw new Error(
          `${dir}: weights hold ${weightData.byteLength} bytes, ${file} describes ${expected}; the model is damaged`,
        );
      }
      // Weights of the right size can still be wrong (overwritten, mixed up with another model's):
      // they would run and give garbage. Models saved before checksums were recorded load unchecked.
      const checksums = (json.userDefinedMetadata?.[CHECKSUMS] ?? {}) as Record<string, unknown>;
      for (const { p, shard, data } of shards) {
        const recorded = checksums[p];
        if (typeof recorded === 'string' && sha256(data) !== recorded) {
          throw new Error(
            `${shard}: its SHA-256 differs from the one recorded in ${file} when the model was saved; the weights are damaged or were replaced (save or copy the model again)`,
          );
        }
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
      };
    },
  };
}

function setOutputActivation(topology: Record<string, unknown>, activation: string): void {
  const config = (topology.model_config ?? topology) as {
    config?: { layers?: { name?: string; config?: Record<string, unknown> }[]; output_layers?: unknown[][] };
  };
  const layers = config.config?.layers ?? [];
  const outputName = config.config?.output_layers?.[0]?.[0];
  const output = layers.find((l) => l.name === outputName || l.config?.name === outputName);
  if (!output?.config || !('activation' in output.config)) {
    throw new Error(`cannot set the output activation: output layer ${String(outputName)} has none`);
  }
  output.config.activation = activation;
}

/** Saves a layers model into `dir` (see {@link fileSystem}). */
export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<void> {
  await model.save(fileSystem(dir, options));
}
