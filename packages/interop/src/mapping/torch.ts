import { FIRST_STAGE, parseLayerName, type ResNetConfig } from '@resnet-ts/resnet-core';
import { WeightFileError } from '../errors';
import type { SourceTensor, SourceTensors } from '../tensors';
import { configFromArchitecture } from './architecture';
import type { LayerWeightSource } from './assign';

const required = (tensors: SourceTensors, key: string, file: string): SourceTensor => {
  const tensor = tensors.get(key);
  if (!tensor) {
    const sample = [...tensors.keys()].slice(0, 6).join(', ');
    throw new WeightFileError(
      file,
      `no ${key}, so not a torchvision/timm ResNet state dict (it holds ${sample}, …)`,
    );
  }
  return tensor;
};

/**
 * The resnet-core config of a torchvision/timm ResNet state dict (`conv1`, `bn1`, `layer1..4`, `fc`;
 * v1.5: the stride on the 3x3; batch-norm epsilon 1e-5). A 3x3 stem means He et al.'s CIFAR family.
 */
export function torchArchitecture(tensors: SourceTensors, file: string): ResNetConfig {
  const stem = required(tensors, 'conv1.weight', file);
  const fc = required(tensors, 'fc.weight', file);
  const kernel = stem.shape[2];
  if (stem.shape.length !== 4 || (kernel !== 7 && kernel !== 3)) {
    throw new WeightFileError(
      file,
      `conv1.weight has shape [${stem.shape}]; expected a 7x7 (ImageNet) or 3x3 (CIFAR) stem`,
    );
  }
  if (tensors.has('conv1.0.weight') || tensors.has('conv1.1.weight')) {
    throw new WeightFileError(
      file,
      'has a deep stem (timm resnet*d / resnet*c), which resnet-core does not build',
    );
  }
  const blocksPerStage: number[] = [];
  const projections: boolean[][] = [];
  for (let stage = 1; tensors.has(`layer${stage}.0.conv1.weight`); stage++) {
    let blocks = 0;
    while (tensors.has(`layer${stage}.${blocks}.conv1.weight`)) blocks++;
    blocksPerStage.push(blocks);
    projections.push(
      Array.from({ length: blocks }, (_, b) => tensors.has(`layer${stage}.${b}.downsample.0.weight`)),
    );
  }
  if (blocksPerStage.length === 0)
    throw new WeightFileError(file, 'has no layer1.0.conv1.weight: not a ResNet state dict');
  const config = configFromArchitecture(
    {
      family: kernel === 7 ? 'imagenet' : 'cifar',
      bottleneck: tensors.has('layer1.0.conv3.weight'),
      blocksPerStage,
      projections,
      firstWidth: required(tensors, 'layer1.0.conv1.weight', file).shape[0] as number,
      numClasses: fc.shape[0] as number,
    },
    file,
  );
  return { ...config, strideOn: '3x3', batchNorm: { epsilon: 1e-5 } };
}

/** PyTorch's OIHW convolution kernel as HWIO. */
function oihwToHwio(tensor: SourceTensor): SourceTensor {
  const [o, i, h, w] = tensor.shape as [number, number, number, number];
  const out = new Float32Array(tensor.values.length);
  const src = tensor.values;
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let hh = 0; hh < h; hh++)
        for (let ww = 0; ww < w; ww++)
          out[((hh * w + ww) * i + ii) * o + oo] = src[((oo * i + ii) * h + hh) * w + ww] as number;
  return { dtype: tensor.dtype, shape: [h, w, i, o], values: out };
}

/** PyTorch's [out, in] linear weight as a Dense kernel [in, out]. */
function transpose2d(tensor: SourceTensor): SourceTensor {
  const [rows, cols] = tensor.shape as [number, number];
  const out = new Float32Array(tensor.values.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = tensor.values[r * cols + c] as number;
  return { dtype: tensor.dtype, shape: [cols, rows], values: out };
}

/** The state-dict prefix of a resnet-core layer (`conv3_block2_1_conv` → `layer2.1.conv1`). */
export function torchPrefix(layer: string): string | undefined {
  const spec = parseLayerName(layer);
  if (spec?.at === 'stem') return spec.layer === 'conv' ? 'conv1' : spec.layer === 'bn' ? 'bn1' : undefined;
  if (spec?.at === 'top') return spec.layer === 'predictions' ? 'fc' : undefined;
  if (spec?.at !== 'block' || (spec.layer !== 'conv' && spec.layer !== 'bn')) return undefined;
  // torchvision counts stages from layer1 and blocks from 0.
  const base = `layer${spec.stage - FIRST_STAGE + 1}.${spec.block - 1}`;
  if (spec.conv === 0) return `${base}.downsample.${spec.layer === 'conv' ? 0 : 1}`;
  return `${base}.${spec.layer}${spec.conv}`;
}

/** Per layer kind: the state-dict suffixes in resnet-core's weight order, and their layout change. */
const SUFFIXES: Record<string, { suffix: string; convert?: (t: SourceTensor) => SourceTensor }[]> = {
  Conv2D: [{ suffix: 'weight', convert: oihwToHwio }, { suffix: 'bias' }],
  BatchNormalization: [
    { suffix: 'weight' },
    { suffix: 'bias' },
    { suffix: 'running_mean' },
    { suffix: 'running_var' },
  ],
  ResNetBatchNormReLU: [
    { suffix: 'weight' },
    { suffix: 'bias' },
    { suffix: 'running_mean' },
    { suffix: 'running_var' },
  ],
  Dense: [{ suffix: 'weight', convert: transpose2d }, { suffix: 'bias' }],
};

/** Statistics PyTorch keeps that have no counterpart in Keras/TensorFlow.js. */
const IGNORED = /\.num_batches_tracked$/;

/** Weights of a state dict for each resnet-core layer, in the layer's order and layout. */
export const torchLayerWeights: LayerWeightSource = {
  kind: 'state dict key',
  lookup(layer, className, count) {
    const prefix = torchPrefix(layer);
    const suffixes = SUFFIXES[className];
    if (!prefix || !suffixes) return undefined;
    return suffixes.slice(0, count).map(({ suffix, convert }) => ({ key: `${prefix}.${suffix}`, convert }));
  },
  ignored: (key) => IGNORED.test(key),
};
