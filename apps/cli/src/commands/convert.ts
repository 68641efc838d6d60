import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { IMAGENET_PER_CHANNEL, type Normalization } from '@resnet-ts/augment';
import { useBackend } from '@resnet-ts/backends';
import { convertWeights, type WeightSource } from '@resnet-ts/interop';
import { exportModel, standardPreprocessing } from '@resnet-ts/train';
import type { Io } from '../io';
import { UsageError } from '../io';

export interface ConvertFlags {
  from: WeightSource;
  model?: string;
  out: string;
  imageSize?: number;
  labels?: string;
  normalization?: 'imagenet' | 'caffe' | 'tf' | 'none';
  json?: boolean;
}

const NORMALIZATIONS: Record<NonNullable<ConvertFlags['normalization']>, Normalization> = {
  imagenet: IMAGENET_PER_CHANNEL,
  caffe: { mode: 'caffe' },
  tf: { mode: 'tf' },
  none: { mode: 'none' },
};

/** Class names from a JSON array or a text file of one name per line. */
async function readLabels(file: string, classes: number): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`--labels ${file}: no such file`);
  });
  let labels: unknown;
  try {
    labels = text.trimStart().startsWith('[')
      ? JSON.parse(text)
      : text.split(/\r?\n/).filter((l) => l.trim());
  } catch {
    throw new UsageError(`--labels ${file}: not a JSON array of names`);
  }
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    throw new UsageError(`--labels ${file}: expected a JSON array of names or one name per line`);
  }
  if (labels.length !== classes) {
    throw new UsageError(
      `--labels ${file}: names ${labels.length} classes, the model has ${classes} outputs`,
    );
  }
  return labels;
}

export async function runConvert(weights: string, flags: ConvertFlags, io: Io): Promise<number> {
  let depth: number | undefined;
  if (flags.model !== undefined) {
    const match = /^resnet(\d+)$/.exec(flags.model);
    if (!match)
      throw new UsageError(`--model: expected resnet<depth> (resnet18, resnet50, …), got "${flags.model}"`);
    depth = Number(match[1]);
  }
  if (
    await stat(path.join(flags.out, 'model.json')).then(
      () => true,
      () => false,
    )
  ) {
    throw new UsageError(
      `--out ${flags.out} already holds a model; choose another directory or remove it first`,
    );
  }
  // Conversion moves data: the pure-JS backend is enough (and is asked for by name: no banner, no probing).
  await useBackend('cpu');
  const bytes = await readFile(weights).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${weights}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  const converted = convertWeights(
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    weights,
    {
      from: flags.from,
      depth,
      imageSize: flags.imageSize,
    },
  );
  try {
    const { config, model } = converted;
    const classes = config.numClasses as number;
    const labels = flags.labels
      ? await readLabels(flags.labels, classes)
      : (converted.labels ?? Array.from({ length: classes }, (_, i) => `class_${i}`));
    const side = (config.inputShape?.[0] ?? 224) as number;
    const normalization = NORMALIZATIONS[flags.normalization ?? converted.normalization];
    const preprocessing = standardPreprocessing(
      normalization,
      [side, side],
      config.family === 'cifar',
      'standard',
    );
    const {
      depth: convertedDepth,
      numClasses,
      inputShape,
      seed,
      classifierActivation,
      zeroInitResidual,
      ...options
    } = config;
    // config.json names the architecture as a run config does, so `resnet train --pretrained` rebuilds it.
    const record = {
      model: `resnet${convertedDepth}`,
      modelOptions: options,
      imageSize: side,
      normalization: flags.normalization ?? converted.normalization,
      convertedFrom: {
        from: flags.from,
        file: path.basename(weights),
        format: converted.format,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
    };
    // The ImageNet names come with their WordNet ids, so eval takes folders named either way.
    const classIds = flags.labels ? undefined : converted.classIds;
    await exportModel(flags.out, model, labels, preprocessing, record, classIds);
    const summary = {
      out: flags.out,
      model: record.model,
      ...options,
      classes,
      imageSize: side,
      normalization: record.normalization,
      format: converted.format,
      tensors: converted.tensorCount,
      parameters: model.countParams(),
    };
    if (flags.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      io.stdout(
        `${flags.out}: ${record.model} (${config.family}, ${converted.format}, ${converted.tensorCount} tensors, ${summary.parameters.toLocaleString('en-US')} parameters), ${classes} classes, ${side} px, ${record.normalization} normalisation\n`,
      );
    }
    return 0;
  } finally {
    converted.model.dispose();
  }
}
