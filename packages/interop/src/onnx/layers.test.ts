/** @jest-environment ./src/onnx/onnxruntime-environment.cjs */
import { buildAlexNet } from '@resnet-ts/resnet-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import {
  compareWithOnnxRuntime,
  randomInput,
  randomizeBatchNorms,
  randomizeBiases,
  TOLERANCE,
} from '../testing/onnxruntime';
import { OnnxExportError } from './errors';
import { describeOnnx, exportOnnx, exportOnnxModel, ONNX_OPSETS } from './export';

type Tensor = tfl.SymbolicTensor;
/** A seeded kernel initializer (tfjs layers draw unseeded by default). */
const init = (seed: number) => ({ kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
const apply = (layer: tfl.layers.Layer, x: Tensor | Tensor[]) => layer.apply(x) as Tensor;

async function expectAgreement(model: tfl.LayersModel, inputShape: number[], seed = 1): Promise<void> {
  randomizeBiases(model, seed + 100);
  const { relative } = await compareWithOnnxRuntime(model, exportOnnx(model), inputShape, seed);
  expect(relative).toBeLessThan(TOLERANCE);
}

describe('exportOnnx layer conversions', () => {
  it("train's stock option-A shortcut (1x1 average pool, Permute, ZeroPadding2D, Permute) converts exactly", async () => {
    const input = tfl.input({ shape: [8, 8, 4], name: 'input_1' });
    const x = apply(tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', ...init(1) }), input);
    let shortcut = apply(
      tfl.layers.averagePooling2d({ poolSize: 1, strides: 2, padding: 'valid', name: 's_subsample' }),
      x,
    );
    shortcut = apply(tfl.layers.permute({ dims: [3, 1, 2], name: 's_channels_first' }), shortcut);
    shortcut = apply(
      tfl.layers.zeroPadding2d({
        padding: [
          [2, 2],
          [0, 0],
        ],
        name: 's_pad',
      }),
      shortcut,
    );
    shortcut = apply(tfl.layers.permute({ dims: [2, 3, 1], name: 's' }), shortcut);
    let branch = apply(tfl.layers.zeroPadding2d({ padding: [1, 1] }), x);
    branch = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, ...init(2) }), branch);
    branch = apply(tfl.layers.batchNormalization({ axis: -1 }), branch);
    const out = apply(tfl.layers.add(), [shortcut, branch]);
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeBatchNorms(model, 3);
    const exported = exportOnnxModel(model);
    expect(exported.operators).toMatchObject({ Pad: 1, Transpose: 4, AveragePool: 1 });
    expect(exported.foldedBatchNorms).toHaveLength(1);
    await expectAgreement(model, [2, 8, 8, 4]);
  });

  it('zero padding before a max-pool folds after a ReLU and stays a Pad node before negative values', async () => {
    const build = (relu: boolean) => {
      const input = tfl.input({ shape: [9, 9, 3] });
      let x = apply(tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', ...init(4) }), input);
      if (relu) x = apply(tfl.layers.reLU(), x);
      x = apply(tfl.layers.zeroPadding2d({ padding: [1, 1], name: 'pool_pad' }), x);
      x = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool' }), x);
      return tfl.model({ inputs: input, outputs: x });
    };
    const afterRelu = build(true);
    const folded = exportOnnxModel(afterRelu);
    expect(folded.operators.Pad).toBeUndefined();
    expect(folded.foldedPaddings).toEqual(['pool_pad']);
    await expectAgreement(afterRelu, [3, 9, 9, 3]);

    const signed = build(false);
    const padded = exportOnnxModel(signed);
    expect(padded.operators.Pad).toBe(1);
    expect(padded.foldedPaddings).toEqual([]);
    await expectAgreement(signed, [3, 9, 9, 3], 2);
  });

  it("TensorFlow's 'same' padding of strided convolutions and pools, known or unknown input sizes", async () => {
    const build = (size: number | null) => {
      const input = tfl.input({ shape: [size, size, 3] });
      let x = apply(
        tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', ...init(5) }),
        input,
      );
      x = apply(
        tfl.layers.conv2d({ filters: 6, kernelSize: 4, padding: 'same', useBias: true, ...init(6) }),
        x,
      );
      x = apply(tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x);
      x = apply(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }), x);
      x = apply(
        tfl.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', ...init(7) }),
        x,
      );
      return tfl.model({ inputs: input, outputs: apply(tfl.layers.globalAveragePooling2d({}), x) });
    };
    for (const size of [11, 12]) await expectAgreement(build(size), [2, size, size, 3]);
    const variable = build(null);
    expect(exportOnnxModel(variable).inputs[0]?.shape).toEqual(['batch', 'height', 'width', 3]);
    for (const size of [11, 12]) await expectAgreement(variable, [2, size, size, 3], size);
  });

  it('vectors: Dense, a batch norm after it, concatenation, and Sequential models', async () => {
    const input = tfl.input({ shape: [6] });
    const a = apply(tfl.layers.dense({ units: 5, activation: 'relu', ...init(8) }), input);
    const b = apply(
      tfl.layers.batchNormalization({}),
      apply(tfl.layers.dense({ units: 3, ...init(9) }), input),
    );
    const joined = apply(tfl.layers.concatenate(), [a, b]);
    const model = tfl.model({
      inputs: input,
      outputs: apply(tfl.layers.dense({ units: 2, activation: 'softmax', ...init(10) }), joined),
    });
    randomizeBatchNorms(model, 1);
    expect(exportOnnxModel(model).batchNorms).toHaveLength(1);
    await expectAgreement(model, [4, 6]);

    const sequential = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [8, 8, 2],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          ...init(1),
        }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, ...init(11) }),
      ],
    });
    await expectAgreement(sequential, [2, 8, 8, 2]);
  });

  it('names the layer and its class when a layer has no conversion', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const x = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw' }), input);
    const model = tfl.model({ inputs: input, outputs: x });
    expect(() => exportOnnx(model)).toThrow(OnnxExportError);
    expect(() => exportOnnx(model)).toThrow(
      /^exportOnnx: layer dw \(class DepthwiseConv2D\) is not supported/,
    );
    try {
      exportOnnx(model);
    } catch (error) {
      expect(error).toMatchObject({ layer: 'dw', className: 'DepthwiseConv2D' });
    }
    const hard = tfl.model({
      inputs: input,
      outputs: apply(
        tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'hardSigmoid', name: 'c' }),
        input,
      ),
    });
    expect(() => exportOnnx(hard)).toThrow(
      'exportOnnx: layer c (class Conv2D): activation hardSigmoid has no ONNX conversion',
    );
  });

  it('writes metadata, producer and opset; reads them back', async () => {
    const input = tfl.input({ shape: [4, 4, 3], name: 'image' });
    const model = tfl.model({
      inputs: input,
      outputs: apply(tfl.layers.globalAveragePooling2d({ name: 'pooled' }), input),
      name: 'tiny',
    });
    const metadata = { labels: JSON.stringify(['cat', 'dog', 'emu']), preprocessing: '{"mode":"imagenet"}' };
    const bytes = exportOnnx(model, { metadata, producerVersion: '1.2.3', opset: 13 });
    expect(describeOnnx(bytes)).toMatchObject({
      irVersion: 7,
      opset: 13,
      producerName: '@resnet-ts/interop',
      producerVersion: '1.2.3',
      graphName: 'tiny',
      metadata,
      inputs: [{ name: 'image', shape: ['batch', 4, 4, 3] }],
      outputs: [{ name: 'pooled', shape: ['batch', 3] }],
    });
    const session = await ort.InferenceSession.create(bytes);
    const result = await session.run({
      image: new ort.Tensor('float32', randomInput([1, 4, 4, 3], 1), [1, 4, 4, 3]),
    });
    expect(result.pooled?.dims).toEqual([1, 3]);
  });

  it('rejects an opset out of range and metadata that is not text', () => {
    const input = tfl.input({ shape: [2] });
    const model = tfl.model({
      inputs: input,
      outputs: apply(tfl.layers.dense({ units: 1, ...init(1) }), input),
    });
    expect(() => exportOnnx(model, { opset: 12 })).toThrow(
      'exportOnnx: opset must be an integer from 13 to 21, got 12',
    );
    expect(() => exportOnnx(model, { metadata: { labels: ['a'] as unknown as string } })).toThrow(
      'exportOnnx: metadata labels must be a string',
    );
    expect(() => describeOnnx(new Uint8Array([1, 2, 3]))).toThrow(/^describeOnnx: not an ONNX model/);
  });
});

describe('exportOnnx on buildAlexNet', () => {
  // Built once: its 4096x4096 dense layer's He-normal draw alone takes ~20 s under jest, whose
  // sandboxed globals slow tfjs's per-element random sampler about tenfold (1 s in plain Node).
  let model: tfl.LayersModel;
  beforeAll(() => {
    model = buildAlexNet({ inputShape: [67, 67, 3], numClasses: 4, seed: 3 });
  }, 120_000);
  afterAll(() => model.dispose());

  it('LRN, flatten in channels-last order and dense layers agree with tfjs', async () => {
    const exported = exportOnnxModel(model);
    expect(exported.operators).toMatchObject({ LRN: 2, MaxPool: 3, Flatten: 1, Gemm: 3, Softmax: 1 });
    for (const [batch, seed] of [
      [1, 1],
      [3, 2],
    ] as const) {
      const { relative } = await compareWithOnnxRuntime(model, exported.bytes, [batch, 67, 67, 3], seed);
      expect(relative).toBeLessThan(TOLERANCE);
    }
  });

  it.each([ONNX_OPSETS.min, ONNX_OPSETS.max])('opset %i loads in onnxruntime and agrees', async (opset) => {
    const bytes = exportOnnx(model, { opset });
    expect(describeOnnx(bytes).opset).toBe(opset);
    const { relative } = await compareWithOnnxRuntime(model, bytes, [2, 67, 67, 3], opset);
    expect(relative).toBeLessThan(TOLERANCE);
  });
});
