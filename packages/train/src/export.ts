import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
// Importing resnet-core also registers the custom layers saved models may contain.
import { subsampleZeroPadChannels } from '@resnet-ts/resnet-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Preprocessing } from './assemble';
import { readJson, writeDirAtomic } from './files';
import { fileSystem } from './model-io';

/** What travels with a saved model: how to label its outputs and how to prepare its inputs. */
export interface ModelBundle {
  model: tfl.LayersModel;
  /** Index → class name. */
  labels: string[];
  /**
   * Index → another identifier of the same class (`class-ids.json`), e.g. the WordNet id of an
   * ImageNet class: evaluation accepts class folders named either way. Absent when not written.
   */
  classIds?: string[];
  preprocessing: Preprocessing;
  dir: string;
}

/**
 * Writes a self-contained model directory atomically: `model.json` + `weights.bin` (outputs are
 * probabilities; fused batch norm + ReLU layers written as the stock pair, option-A shortcuts as stock
 * layers), `labels.json`, `preprocessing.json`, the training config when given, and `class-ids.json`
 * with `classIds` (one identifier per label, e.g. WordNet ids).
 */
export async function exportModel(
  dir: string,
  model: tfl.LayersModel,
  labels: string[],
  preprocessing: Preprocessing,
  config?: object,
  classIds?: readonly string[],
): Promise<void> {
  if (classIds && classIds.length !== labels.length) {
    throw new Error(`classIds: expected one per label (${labels.length}), got ${classIds.length}`);
  }
  await writeDirAtomic(dir, async (temp) => {
    // Option-A shortcuts go out as stock layers: the files load without @resnet-ts/resnet-core.
    const stockShortcuts = subsampleZeroPadChannels(model);
    await model.save(
      fileSystem(temp, { outputActivation: 'softmax', unfuseBatchNormRelu: true, stockShortcuts }),
    );
    await writeFile(path.join(temp, 'labels.json'), JSON.stringify(labels, null, 1));
    await writeFile(path.join(temp, 'preprocessing.json'), JSON.stringify(preprocessing));
    if (config) await writeFile(path.join(temp, 'config.json'), JSON.stringify(config, null, 2));
    if (classIds) await writeFile(path.join(temp, 'class-ids.json'), JSON.stringify(classIds, null, 1));
  });
}

/**
 * Loads a model directory written by {@link exportModel} — or a run directory, whose final model is
 * in `model/`. Errors name the missing or damaged file.
 */
export async function loadModel(dirOrRun: string): Promise<ModelBundle> {
  const found = await stat(dirOrRun).catch(() => undefined);
  if (!found) throw new Error(`${dirOrRun}: the model directory does not exist`);
  if (!found.isDirectory())
    throw new Error(`${dirOrRun}: not a directory (give a run directory or an exported model directory)`);
  const exported = await stat(path.join(dirOrRun, 'model.json')).catch(() => undefined);
  const final = await stat(path.join(dirOrRun, 'model', 'model.json')).catch(() => undefined);
  if (!exported && !final) {
    const checkpoint = await stat(path.join(dirOrRun, 'checkpoint')).catch(() => undefined);
    throw new Error(
      checkpoint
        ? `${dirOrRun}: the run has no final model yet; resume it to the end first`
        : `${dirOrRun}: holds no model (no model.json, and no model/model.json of a run directory)`,
    );
  }
  const dir = (await readJson<unknown>(path.join(dirOrRun, 'model.json')).then(
    () => true,
    () => false,
  ))
    ? dirOrRun
    : path.join(dirOrRun, 'model');
  const labels = await readJson<string[]>(path.join(dir, 'labels.json'));
  const preprocessing = await readJson<Preprocessing>(path.join(dir, 'preprocessing.json'));
  if (!Array.isArray(labels) || !preprocessing?.eval || !preprocessing.inputSize) {
    throw new Error(`${dir}: labels.json or preprocessing.json is not what resnet-ts writes`);
  }
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(fileSystem(dir));
  } catch (error) {
    throw new Error(`${dir}: cannot load the model (${(error as Error).message})`);
  }
  const classes = (model.outputs[0]?.shape ?? []).at(-1);
  if (classes !== labels.length) {
    throw new Error(
      `${dir}: the model has ${classes} outputs but labels.json names ${labels.length} classes`,
    );
  }
  const classIds = await readJson<unknown>(path.join(dir, 'class-ids.json')).catch(() => undefined);
  if (
    classIds !== undefined &&
    (!Array.isArray(classIds) ||
      classIds.length !== labels.length ||
      !classIds.every((id) => typeof id === 'string'))
  ) {
    model.dispose();
    throw new Error(`${dir}: class-ids.json is not one name per class of labels.json (${labels.length})`);
  }
  return { model, labels, classIds: classIds as string[] | undefined, preprocessing, dir };
}
