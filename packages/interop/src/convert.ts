import { readFile } from 'node:fs/promises';
import { buildResNet, type ResNetConfig, resolveResNetConfig } from '@resnet-ts/resnet-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync } from 'fflate';
import { WeightFileError } from './errors';
import { HDF5_MAGIC, readKerasWeights } from './formats/keras-h5';
import { readSafetensors } from './formats/safetensors';
import { readTorchFile } from './formats/torch';
import { IMAGENET_CLASS_NAMES, IMAGENET_WNIDS } from './imagenet-classes';
import { assignWeights, type LayerWeightSource } from './mapping/assign';
import { flattenKerasWeights, kerasArchitecture, kerasLayerWeights } from './mapping/keras';
import { torchArchitecture, torchLayerWeights } from './mapping/torch';
import type { SourceTensors } from './tensors';

export const WEIGHT_SOURCES = ['torchvision', 'timm', 'keras'] as const;
/** Whose weights: torchvision and timm share their ResNet state-dict names; Keras is keras.applications'. */
export type WeightSource = (typeof WEIGHT_SOURCES)[number];

/** The file formats read: PyTorch `torch.save` zips, safetensors, Keras HDF5 and `.keras` archives. */
export type WeightFormat = 'pytorch' | 'safetensors' | 'keras-h5' | 'keras-archive';

export interface ConvertOptions {
  from: WeightSource;
  /** The depth the caller expects (`--model resnet50`); a file of another depth is refused. Default: the file's. */
  depth?: number;
  /** Square input side. Default 224 (ImageNet family) or 32 (CIFAR family). */
  imageSize?: number;
  /** Default 'softmax' (probabilities, as the published models); 'linear' gives logits. */
  classifierActivation?: 'softmax' | 'linear';
}

export interface ConvertedModel {
  model: tfl.LayersModel;
  /** The resnet-core builder options the weights fit (`buildResNet(config)` rebuilds the architecture). */
  config: ResNetConfig;
  /**
   * How the weights expect inputs: `imagenet` = torchvision/timm's mean/std on RGB in [0, 1];
   * `caffe` = Keras's BGR with the ImageNet means subtracted (keras `resnet.preprocess_input`).
   */
  normalization: 'imagenet' | 'caffe';
  /** The 1,000 ILSVRC-2012 class names when the net has 1,000 outputs. */
  labels?: string[];
  /** Their WordNet ids (`n01440764` …), in the same order, when `labels` are those names. */
  classIds?: string[];
  format: WeightFormat;
  /** How many tensors were read from the file. */
  tensorCount: number;
}

/** What a file is, from its first bytes (extensions lie: `.pt`, `.bin`, `.h5` are all used loosely). */
export function detectWeightFormat(bytes: Uint8Array, file: string): WeightFormat {
  if (bytes.byteLength >= 8 && HDF5_MAGIC.every((b, i) => bytes[i] === b)) return 'keras-h5';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b)
    return zipHolds(bytes, 'model.weights.h5') ? 'keras-archive' : 'pytorch';
  if (bytes.byteLength >= 9 && bytes[8] === 0x7b) return 'safetensors'; // u64 length, then '{'
  if (bytes[0] === 0x80) return 'pytorch'; // a legacy torch.save pickle: readTorchFile explains
  throw new WeightFileError(
    file,
    bytes.byteLength === 0
      ? 'the file is empty'
      : 'not a weight file read here (.safetensors, PyTorch .pth/.pt, Keras .h5/.weights.h5/.keras)',
  );
}

/** Whether a zip archive lists `name` (read from its directory; nothing is decompressed). */
function zipHolds(bytes: Uint8Array, name: string): boolean {
  let found = false;
  try {
    unzipSync(bytes, {
      filter: (entry) => {
        if (entry.name === name) found = true;
        return false;
      },
    });
  } catch {
    return false; // a damaged archive: the PyTorch reader says so
  }
  return found;
}

const FORMATS_OF: Record<WeightSource, readonly WeightFormat[]> = {
  torchvision: ['pytorch', 'safetensors'],
  timm: ['pytorch', 'safetensors'],
  keras: ['keras-h5', 'keras-archive'],
};

const FORMAT_NAMES: Record<WeightFormat, string> = {
  pytorch: 'a PyTorch file',
  safetensors: 'a safetensors file',
  'keras-h5': 'a Keras HDF5 file',
  'keras-archive': 'a .keras archive',
};

/**
 * Builds the resnet-core model a torchvision / timm / Keras weight file describes and loads the
 * weights into it. The architecture is read from the file and checked tensor by tensor before any
 * weight is set; every error is one {@link WeightFileError} line naming the file.
 */
export function convertWeights(bytes: Uint8Array, file: string, options: ConvertOptions): ConvertedModel {
  if (!(WEIGHT_SOURCES as readonly string[]).includes(options.from)) {
    throw new WeightFileError(
      file,
      `from: expected one of ${WEIGHT_SOURCES.join(', ')}, got ${JSON.stringify(options.from)}`,
    );
  }
  const format = detectWeightFormat(bytes, file);
  if (!FORMATS_OF[options.from].includes(format)) {
    const other = format.startsWith('keras') ? 'keras' : 'torchvision or timm';
    throw new WeightFileError(
      file,
      `is ${FORMAT_NAMES[format]}, not weights from ${options.from}; use --from ${other}`,
    );
  }
  let tensors: SourceTensors;
  let architecture: ResNetConfig;
  let source: LayerWeightSource;
  if (options.from === 'keras') {
    const layers = readKerasWeights(bytes, file);
    architecture = kerasArchitecture(layers, file);
    tensors = flattenKerasWeights(layers);
    source = kerasLayerWeights;
  } else {
    tensors = format === 'safetensors' ? readSafetensors(bytes, file) : readTorchFile(bytes, file);
    architecture = torchArchitecture(tensors, file);
    source = torchLayerWeights;
  }
  const modelName = `resnet${architecture.depth}`;
  if (options.depth !== undefined && options.depth !== architecture.depth) {
    throw new WeightFileError(
      file,
      `holds a ${architecture.family === 'cifar' ? 'CIFAR ' : ''}ResNet-${architecture.depth} (${describe(architecture)}), not resnet${options.depth}`,
    );
  }
  const side = options.imageSize ?? (architecture.family === 'cifar' ? 32 : 224);
  const config: ResNetConfig = {
    ...architecture,
    inputShape: [side, side, 3],
    classifierActivation: options.classifierActivation ?? 'softmax',
    zeroInitResidual: false,
    seed: 0,
  };
  resolveResNetConfig(config); // a config error here is a bug in the mapping, not the user's
  const model = buildResNet(config);
  try {
    assignWeights(model, tensors, source, file, modelName);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const numClasses = architecture.numClasses as number;
  return {
    model,
    config,
    normalization: options.from === 'keras' ? 'caffe' : 'imagenet',
    labels: numClasses === IMAGENET_CLASS_NAMES.length ? [...IMAGENET_CLASS_NAMES] : undefined,
    classIds: numClasses === IMAGENET_WNIDS.length ? [...IMAGENET_WNIDS] : undefined,
    format,
    tensorCount: tensors.size,
  };
}

function describe(config: ResNetConfig): string {
  const resolved = resolveResNetConfig(config);
  return `${resolved.block} blocks ${resolved.stages.map((s) => s.blocks).join(', ')}`;
}

/** {@link convertWeights} on a file's bytes. */
export async function convertWeightsFile(file: string, options: ConvertOptions): Promise<ConvertedModel> {
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new WeightFileError(
      file,
      error.code === 'ENOENT' ? 'no such file' : `cannot be read (${error.message})`,
    );
  });
  return convertWeights(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, options);
}
