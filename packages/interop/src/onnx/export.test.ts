/** @jest-environment ./src/onnx/onnxruntime-environment.cjs */
import { buildResNet, type ResNetConfig } from '@resnet-ts/resnet-core';
import {
  compareWithOnnxRuntime,
  randomizeBatchNorms,
  randomizeBiases,
  TOLERANCE,
} from '../testing/onnxruntime';
import { exportOnnxModel } from './export';

// Small but complete networks: every block kind, shortcut and option of buildResNet, with random
// batch-norm statistics, exported and run in onnxruntime-node against tfjs's predict.
const small: Partial<ResNetConfig> = { width: 0.125, inputShape: [64, 64, 3], numClasses: 5 };
const cases: [string, ResNetConfig][] = [
  ['ResNet-20, option A shortcuts', { depth: 20, numClasses: 10 }],
  ['ResNet-20, option B shortcuts', { depth: 20, numClasses: 10, shortcut: 'B' }],
  [
    'ResNet-20, option C, fused BN+ReLU',
    { depth: 20, numClasses: 10, shortcut: 'C', fuseBatchNormRelu: true },
  ],
  ['ResNet-18 layout, conv biases', { depth: 18, ...small, convBias: true }],
  ['ResNet-50 layout, stride on the 3x3', { depth: 50, ...small }],
  [
    'ResNet-50 layout, stride on the 1x1 (Keras), conv biases',
    { depth: 50, ...small, strideOn: '1x1', convBias: true },
  ],
  ['ResNet-18 v2 (pre-activation)', { depth: 18, ...small, preactivation: true }],
  [
    'ResNet-20 v2, option A, fused BN+ReLU',
    { depth: 20, numClasses: 10, preactivation: true, fuseBatchNormRelu: true },
  ],
  [
    'ResNet-11 bottleneck v2 (CIFAR 9n+2)',
    { depth: 11, block: 'bottleneck', preactivation: true, numClasses: 10 },
  ],
  [
    'ResNet-18, fused BN+ReLU, dropout, softmax, width 0.25',
    {
      depth: 18,
      ...small,
      width: 0.25,
      fuseBatchNormRelu: true,
      dropout: 0.5,
      classifierActivation: 'softmax',
    },
  ],
  ['ResNet-18 features (no top, NHWC output)', { depth: 18, ...small, includeTop: false }],
];

describe('exportOnnx on buildResNet models', () => {
  it.each(cases)('%s: onnxruntime agrees with tfjs at batch 1 and 3', async (_name, config) => {
    const model = buildResNet({
      classifierActivation: 'linear',
      zeroInitResidual: false,
      seed: 7,
      ...config,
    });
    const batchNorms = randomizeBatchNorms(model, 11);
    randomizeBiases(model, 12); // conv biases (convBias) and the classifier's
    expect(batchNorms).toBeGreaterThan(0);
    const exported = exportOnnxModel(model);

    const [, height, width, channels] = (model.inputs[0] as { shape: number[] }).shape as [
      number,
      number,
      number,
      number,
    ];
    expect(exported.inputs).toEqual([{ name: 'input_1', shape: ['batch', height, width, channels] }]);
    expect(exported.outputs[0]?.shape[0]).toBe('batch');
    // Every batch norm after a convolution is folded; pre-activation ones (after an addition or the
    // stem) remain as BatchNormalization.
    expect(exported.foldedBatchNorms.length + exported.batchNorms.length).toBe(batchNorms);
    if (config.preactivation) expect(exported.batchNorms.length).toBeGreaterThan(0);
    else expect(exported.batchNorms).toEqual([]);
    // Pad nodes: option A's channel padding, and v2's pool1_pad (before the max-pool, with no ReLU
    // before it, padding with zeros is not max-pool padding). Every other ZeroPadding2D is folded.
    const channelPads = model.layers.filter(
      (l) =>
        l.getClassName() === 'ResNetSubsampleZeroPad' &&
        (l.outputShape as number[])[3] !== ((l.input as { shape: number[] }).shape[3] as number),
    ).length;
    const stemPad = config.preactivation && (config.depth === 18 || config.depth === 50) ? 1 : 0;
    expect(exported.operators.Pad ?? 0).toBe(channelPads + stemPad);
    if (config.depth === 18 || config.depth === 50) {
      expect(exported.foldedPaddings).toEqual(
        expect.arrayContaining(config.preactivation ? ['conv1_pad'] : ['conv1_pad', 'pool1_pad']),
      );
    }

    for (const [batch, seed] of [
      [1, 1],
      [3, 2],
    ] as const) {
      const { relative, shape } = await compareWithOnnxRuntime(
        model,
        exported.bytes,
        [batch, height, width, channels],
        seed,
      );
      expect(shape[0]).toBe(batch);
      expect(relative).toBeLessThan(TOLERANCE);
    }
    model.dispose();
  });
});
