import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readJson, recoverDir, writeDirAtomic } from './files';
import type { ClassificationMetrics } from './metrics';
import { sha256 } from './model-io';
import type { Optimizer } from './optim';

export interface SplitMetrics {
  loss: number;
  top1: number;
  top5: number;
  count: number;
}

/** One finished epoch, as logged to metrics.jsonl and kept in the checkpoint. */
export interface EpochRecord {
  type: 'epoch';
  epoch: number;
  step: number;
  lr: number;
  train: SplitMetrics;
  val?: SplitMetrics;
  seconds: number;
  imagesPerSecond: number;
  /** Seconds the trainer waited for input batches, and that as a share of the epoch. */
  dataWaitSeconds: number;
  dataWaitShare: number;
}

/** Everything besides tensors that `resume` needs to continue exactly. */
export interface TrainState {
  version: 1;
  /** The epoch in progress (0-based), and how many of its batches are done. */
  epoch: number;
  batch: number;
  /** Global steps done. */
  step: number;
  history: EpochRecord[];
  best?: { epoch: number; top1: number };
  epochsWithoutImprovement: number;
  /** Accumulators of the unfinished epoch, so its record comes out as if never interrupted. */
  partial?: {
    metrics: ReturnType<ClassificationMetrics['toJSON']>;
    seconds: number;
    dataWaitSeconds: number;
  };
}

interface NamedTensorsFile {
  specs: tf.io.WeightsManifestEntry[];
  /** SHA-256 (hex) of the `.bin`; absent in checkpoints written before it was recorded. */
  sha256?: string;
}

async function writeTensors(dir: string, base: string, tensors: tf.NamedTensorMap): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
  await writeFile(path.join(dir, `${base}.bin`), bytes);
  await writeFile(
    path.join(dir, `${base}.json`),
    JSON.stringify({ specs, sha256: sha256(bytes) } satisfies NamedTensorsFile),
  );
}

async function readTensors(dir: string, base: string): Promise<tf.NamedTensorMap> {
  const { specs, sha256: recorded } = await readJson<NamedTensorsFile>(path.join(dir, `${base}.json`));
  const file = path.join(dir, `${base}.bin`);
  const bytes = await readFile(file).catch(() => {
    throw new Error(`${file}: missing; the checkpoint is incomplete`);
  });
  let tensors: tf.NamedTensorMap;
  try {
    tensors = tf.io.decodeWeights(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      specs,
    );
  } catch (error) {
    throw new Error(
      `${file}: does not match ${base}.json (${(error as Error).message}); the checkpoint is damaged`,
    );
  }
  // Of the right size, yet other bytes (checkpoints written before checksums are not checked).
  if (typeof recorded === 'string' && sha256(bytes) !== recorded) {
    tf.dispose(Object.values(tensors));
    throw new Error(
      `${file}: its SHA-256 differs from the one recorded in ${base}.json; the checkpoint is damaged`,
    );
  }
  return tensors;
}

/** Writes model weights, optimizer slots and state into `dir`, atomically (all or nothing). */
export async function saveCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  optimizer: Optimizer,
  state: TrainState,
): Promise<void> {
  await writeDirAtomic(dir, async (temp) => {
    await writeTensors(
      temp,
      'weights',
      Object.fromEntries(model.weights.map((w) => [w.originalName, w.read()])),
    );
    const optimizerState = optimizer.getState();
    await writeTensors(temp, 'optimizer', optimizerState.slots);
    await writeFile(
      path.join(temp, 'state.json'),
      JSON.stringify({ ...state, optimizerIterations: optimizerState.iterations }),
    );
  });
}

export async function hasCheckpoint(dir: string): Promise<boolean> {
  await recoverDir(dir);
  return (await stat(path.join(dir, 'state.json')).catch(() => undefined)) !== undefined;
}

/** Restores weights and optimizer state from `dir`; errors name the damaged file. */
export async function loadCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  optimizer: Optimizer,
): Promise<TrainState> {
  const state = await readJson<TrainState & { optimizerIterations: number }>(path.join(dir, 'state.json'));
  if (state.version !== 1 || !Number.isInteger(state.epoch) || !Number.isInteger(state.step)) {
    throw new Error(`${path.join(dir, 'state.json')}: not a resnet-ts training state`);
  }
  const weights = await readTensors(dir, 'weights');
  for (const variable of model.weights) {
    const saved = weights[variable.originalName];
    if (!saved || !tf.util.arraysEqual(saved.shape, variable.shape as number[])) {
      tf.dispose(Object.values(weights));
      throw new Error(
        `${path.join(dir, 'weights.json')}: has no ${variable.originalName} of shape ${JSON.stringify(variable.shape)}; the checkpoint belongs to another model`,
      );
    }
    variable.write(saved);
  }
  tf.dispose(Object.values(weights));
  const slots = await readTensors(dir, 'optimizer');
  try {
    optimizer.setState({ iterations: state.optimizerIterations, slots });
  } finally {
    tf.dispose(Object.values(slots));
  }
  const { optimizerIterations: _, ...rest } = state;
  return rest;
}
