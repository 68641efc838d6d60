import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { useBackend } from '@resnet-ts/backends';
import { exportOnnxModel, ONNX_OPSETS, OnnxExportError } from '@resnet-ts/interop';
import { loadModel, writeDirAtomic, writeFileAtomic } from '@resnet-ts/train';
import { InvalidArgumentError } from 'commander';
import type { Io } from '../io';
import { UsageError } from '../io';
import { integer } from '../parse';
import { CLI_VERSION } from '../version';

export const EXPORT_FORMATS = ['onnx', 'tfjs'] as const;

export interface ExportFlags {
  model: string;
  format: (typeof EXPORT_FORMATS)[number];
  out: string;
  opset?: number;
  json?: boolean;
}

/** `--opset`: an ONNX operator set the exporter writes. */
export function opset(value: string): number {
  const n = integer(value);
  if (n < ONNX_OPSETS.min || n > ONNX_OPSETS.max) {
    throw new InvalidArgumentError(`expected ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got ${n}`);
  }
  return n;
}

const isInside = (child: string, parent: string) => {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const shapeText = (shape: (number | string)[]) => `[${shape.join(', ')}]`;

/** What the ONNX file's metadata_props say about using it. */
const INPUT_LAYOUT = 'NHWC float32 [batch, height, width, channels], prepared as preprocessing.eval says';

/** Checks --out before anything is loaded, so a bad one costs nothing and writes nothing. */
async function checkOut(flags: ExportFlags): Promise<void> {
  const found = await stat(flags.out).catch(() => undefined);
  if (flags.format === 'onnx') {
    if (found?.isDirectory()) {
      throw new UsageError(
        `--out ${flags.out} is a directory; give the file to write, e.g. ${path.join(flags.out, 'model.onnx')}`,
      );
    }
    return;
  }
  if (found && !found.isDirectory()) {
    throw new UsageError(`--out ${flags.out} is a file; --format tfjs writes a model directory`);
  }
  if (found && (await readdir(flags.out)).length > 0) {
    throw new UsageError(`--out ${flags.out} is not empty; choose another directory or remove it first`);
  }
}

/** The files of a model directory: model.json, its weight shards, labels, preprocessing, config. */
async function modelFiles(dir: string): Promise<string[]> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
    weightsManifest?: { paths: string[] }[];
  };
  const shards = (json.weightsManifest ?? []).flatMap((group) => group.paths);
  const config = await stat(path.join(dir, 'config.json')).then(
    () => ['config.json'],
    () => [],
  );
  return ['model.json', ...shards, 'labels.json', 'preprocessing.json', ...config];
}

export async function runExport(flags: ExportFlags, io: Io): Promise<number> {
  if (flags.opset !== undefined && flags.format !== 'onnx') {
    throw new UsageError('--opset: applies to --format onnx only');
  }
  await checkOut(flags);
  // Export moves data: the pure-JS backend is enough (asked for by name: no banner, no probing).
  await useBackend('cpu');
  const bundle = await loadModel(flags.model);
  try {
    if (isInside(path.resolve(flags.out), path.resolve(bundle.dir))) {
      throw new UsageError(`--out ${flags.out} is inside the model directory ${bundle.dir}`);
    }
    if (flags.format === 'tfjs') {
      const files = await modelFiles(bundle.dir);
      await writeDirAtomic(flags.out, async (temp) => {
        for (const file of files) await copyFile(path.join(bundle.dir, file), path.join(temp, file));
      });
      if (flags.json) {
        io.stdout(
          `${JSON.stringify({ format: 'tfjs', out: flags.out, source: bundle.dir, files }, null, 2)}\n`,
        );
      } else {
        io.stdout(
          `wrote ${flags.out}: TensorFlow.js layers model (${files.join(', ')}) from ${bundle.dir}\n`,
        );
      }
      return 0;
    }

    const last = bundle.model.layers[bundle.model.layers.length - 1];
    const activation = (last?.getConfig() as { activation?: string } | undefined)?.activation;
    const output = activation === 'softmax' ? 'probabilities' : activation === 'linear' ? 'logits' : 'scores';
    let result: ReturnType<typeof exportOnnxModel>;
    try {
      result = exportOnnxModel(bundle.model, {
        opset: flags.opset,
        producerVersion: CLI_VERSION,
        metadata: {
          labels: JSON.stringify(bundle.labels),
          preprocessing: JSON.stringify(bundle.preprocessing),
          input_layout: INPUT_LAYOUT,
          output: `${output} [batch, ${bundle.labels.length}], in the order of labels`,
        },
      });
    } catch (error) {
      if (!(error instanceof OnnxExportError)) throw error;
      throw new UsageError(`${bundle.dir}: ${error.message.replace(/^exportOnnx: /, '')}`);
    }
    await writeFileAtomic(flags.out, result.bytes);
    const [input] = result.inputs;
    const [out] = result.outputs;
    if (flags.json) {
      const { bytes, ...report } = result;
      io.stdout(
        `${JSON.stringify({ format: 'onnx', out: flags.out, source: bundle.dir, bytes: bytes.length, output, ...report }, null, 2)}\n`,
      );
      return 0;
    }
    io.stdout(
      `wrote ${flags.out}: ONNX opset ${result.opset}, ${megabytes(result.bytes.length)}; input ${input?.name} ${shapeText(input?.shape ?? [])} NHWC float32, output ${out?.name} ${shapeText(out?.shape ?? [])} ${output}; ${result.foldedBatchNorms.length} batch norms folded into convolutions; labels and preprocessing in its metadata\n`,
    );
    return 0;
  } finally {
    bundle.model.dispose();
  }
}
