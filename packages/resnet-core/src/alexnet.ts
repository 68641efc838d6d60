import * as tfl from '@tensorflow/tfjs-layers';
import { type ImageShape, validateImageShape } from './config';
import { ALEXNET_DEFAULTS } from './defaults';
import { ResNetConfigError } from './errors';
import { dense, heNormalKernel, type LayerSettings } from './layer-helpers';
import { layerName } from './layer-names';
import { BatchNormalization } from './layers/batch-normalization';
import { LocalResponseNorm } from './layers/local-response-norm';

export interface AlexNetConfig {
  /** Default 1000. */
  numClasses?: number;
  /** Default [227, 227, 3] (the size at which 11x11/4 tiles exactly); at least 67x67. */
  inputShape?: ImageShape;
  /** 'lrn' (Krizhevsky et al., default), 'batchnorm' (BN before every ReLU), or 'none'. */
  normalization?: 'lrn' | 'batchnorm' | 'none';
  /** Dropout after fc6 and fc7. Default 0.5. */
  dropout?: number;
  seed?: number;
  name?: string;
  classifierActivation?: 'softmax' | 'linear';
}

type Tensor = tfl.SymbolicTensor;

const MIN_SIZE = 67;

/**
 * AlexNet (Krizhevsky et al. 2012): five convolutions and three dense layers. The paper's two-GPU
 * split is merged into one tower (grouped convolutions become full ones, as in torchvision's and
 * most single-device re-implementations); channel counts are the paper's 96/256/384/384/256.
 */
export function buildAlexNet(config: AlexNetConfig = {}): tfl.LayersModel {
  const numClasses = config.numClasses ?? ALEXNET_DEFAULTS.numClasses;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ResNetConfigError(
      'numClasses',
      `expected a positive integer, got ${JSON.stringify(numClasses)}`,
    );
  }
  const inputShape = config.inputShape
    ? validateImageShape('inputShape', config.inputShape)
    : ([...ALEXNET_DEFAULTS.inputShape] as ImageShape);
  for (const size of inputShape.slice(0, 2)) {
    if (size === null || size < MIN_SIZE) {
      throw new ResNetConfigError(
        'inputShape',
        `AlexNet needs a fixed height and width of at least ${MIN_SIZE} (three 3x3/2 max-pools after an 11x11/4 convolution), got ${JSON.stringify(inputShape)}`,
      );
    }
  }
  const normalization = config.normalization ?? ALEXNET_DEFAULTS.normalization;
  if (!['lrn', 'batchnorm', 'none'].includes(normalization)) {
    throw new ResNetConfigError(
      'normalization',
      `expected 'lrn', 'batchnorm' or 'none', got ${JSON.stringify(normalization)}`,
    );
  }
  const dropout = config.dropout ?? ALEXNET_DEFAULTS.dropout;
  if (!(dropout >= 0 && dropout < 1)) {
    throw new ResNetConfigError('dropout', `expected a rate in [0, 1), got ${JSON.stringify(dropout)}`);
  }
  const settings: LayerSettings = { seed: config.seed };
  const batchNorm = normalization === 'batchnorm';

  const convRelu = (x: Tensor, name: string, filters: number, kernelSize: number, strides = 1): Tensor => {
    let y = tfl.layers
      .conv2d({
        filters,
        kernelSize,
        strides,
        padding: strides > 1 ? 'valid' : 'same',
        useBias: !batchNorm,
        kernelInitializer: heNormalKernel(settings, name),
        name,
      })
      .apply(x) as Tensor;
    if (batchNorm) y = new BatchNormalization({ momentum: 0.9, name: `${name}_bn` }).apply(y) as Tensor;
    return tfl.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(y) as Tensor;
  };
  const lrn = (x: Tensor, name: string): Tensor =>
    normalization === 'lrn' ? (new LocalResponseNorm({ name }).apply(x) as Tensor) : x;
  const pool = (x: Tensor, name: string): Tensor =>
    tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name }).apply(x) as Tensor;
  const fc = (x: Tensor, name: string): Tensor => {
    const y = tfl.layers
      .dense({ units: 4096, activation: 'relu', kernelInitializer: heNormalKernel(settings, name), name })
      .apply(x) as Tensor;
    return dropout > 0
      ? (tfl.layers.dropout({ rate: dropout, name: `${name}_dropout` }).apply(y) as Tensor)
      : y;
  };

  const input = tfl.input({ shape: inputShape, name: layerName({ at: 'input' }) });
  let x = pool(lrn(convRelu(input, 'conv1', 96, 11, 4), 'norm1'), 'pool1');
  x = pool(lrn(convRelu(x, 'conv2', 256, 5), 'norm2'), 'pool2');
  x = convRelu(x, 'conv3', 384, 3);
  x = convRelu(x, 'conv4', 384, 3);
  x = pool(convRelu(x, 'conv5', 256, 3), 'pool5');
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as Tensor;
  x = fc(fc(x, 'fc6'), 'fc7');
  const predictions = layerName({ at: 'top', layer: 'predictions' });
  const output = dense(x, numClasses, predictions, config.classifierActivation ?? 'softmax', settings);
  return tfl.model({ inputs: input, outputs: output, name: config.name ?? 'alexnet' });
}
