import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FUSED_CONV2D_KERNEL } from '../kernel-names';
import { seededUniform } from '../test-random';
import { FusedConv2D } from './fused-conv2d';
import { SubsampleZeroPad } from './subsample-zero-pad';

const seeded = (seed: number, shape: number[]) =>
  tf.tensor(
    seededUniform(
      seed,
      shape.reduce((a, b) => a * b, 1),
    ).map((v) => v - 0.5),
    shape,
  );

/** An option-A downsampling block's tail: ZeroPadding2D → strided conv, SubsampleZeroPad shortcut, Add, ReLU. */
function layeredAndFused() {
  const input = tfl.input({ shape: [9, 9, 4] });
  const padded = tfl.layers.zeroPadding2d({ padding: [1, 1] }).apply(input);
  const conv = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: true });
  const y = conv.apply(padded) as tfl.SymbolicTensor;
  const shortcut = new SubsampleZeroPad({ strides: 2, filters: 8 }).apply(input) as tfl.SymbolicTensor;
  const sum = tfl.layers.add().apply([shortcut, y]) as tfl.SymbolicTensor;
  const layered = tfl.model({
    inputs: input,
    outputs: tfl.layers.activation({ activation: 'relu' }).apply(sum) as tfl.SymbolicTensor,
  });
  const fusedLayer = new FusedConv2D({
    filters: 8,
    kernelSize: 3,
    strides: 2,
    padding: 'valid',
    explicitPadding: [
      [1, 1],
      [1, 1],
    ],
    activation: 'relu',
    residual: true,
    shortcutStrides: 2,
    shortcutPadChannels: [2, 2],
  });
  const fused = tfl.model({
    inputs: input,
    outputs: fusedLayer.apply([input, input]) as tfl.SymbolicTensor,
  });
  const weights = [seeded(1, [3, 3, 4, 8]), seeded(2, [8])];
  conv.setWeights(weights);
  fusedLayer.setWeights(weights);
  tf.dispose(weights);
  return { layered, fused, fusedLayer };
}

describe('FusedConv2D', () => {
  it('computes what the layers it replaces compute, bit for bit, where no backend fuses it', () => {
    const { layered, fused } = layeredAndFused();
    const x = seeded(3, [2, 9, 9, 4]);
    const expected = layered.predict(x) as tf.Tensor;
    const actual = fused.predict(x) as tf.Tensor;
    expect(actual.shape).toEqual([2, 5, 5, 8]);
    expect(Array.from(actual.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([x, expected, actual]);
  });

  it('survives a config round trip (saved models load with the same predictions)', () => {
    const { fused } = layeredAndFused();
    const copy = tfl.LayersModel.fromConfig(
      tfl.LayersModel as unknown as tf.serialization.SerializableConstructor<tfl.LayersModel>,
      fused.getConfig() as unknown as tf.serialization.ConfigDict,
    ) as tfl.LayersModel;
    copy.setWeights(fused.getWeights());
    expect(copy.layers[1]!.getConfig()).toEqual(fused.layers[1]!.getConfig());
    const x = seeded(4, [1, 9, 9, 4]);
    const [a, b] = [fused, copy].map((m) => m.predict(x) as tf.Tensor);
    expect(Array.from(b!.dataSync())).toEqual(Array.from(a!.dataSync()));
    tf.dispose([x, a!, b!]);
  });

  it('calls the ResNetFusedConv2D kernel with its inputs and attributes when the backend has one, but not in training', () => {
    const { fused } = layeredAndFused();
    const seen: { inputs: string[]; attrs: unknown }[] = [];
    tf.registerKernel({
      kernelName: FUSED_CONV2D_KERNEL,
      backendName: 'cpu',
      kernelFunc: ({ inputs, attrs, backend }) => {
        seen.push({ inputs: Object.keys(inputs), attrs });
        const cpu = backend as unknown as {
          makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo;
        };
        return cpu.makeTensorInfo([1, 5, 5, 8], 'float32', new Float32Array(200).fill(7));
      },
    });
    try {
      const x = seeded(5, [1, 9, 9, 4]);
      const y = fused.predict(x) as tf.Tensor;
      expect(Array.from(new Set(y.dataSync()))).toEqual([7]);
      expect(seen).toEqual([
        {
          inputs: ['x', 'filter', 'bias', 'shortcut'],
          attrs: {
            strides: [2, 2],
            pad: [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ],
            dilations: [1, 1],
            activation: 'relu',
            shortcutStrides: 2,
            shortcutChannelsBefore: 2,
          },
        },
      ]);
      // Training (a fit of the folded model) takes the differentiable tfjs ops instead.
      const trained = fused.apply(x, { training: true }) as tf.Tensor;
      expect(seen).toHaveLength(1);
      expect(new Set(trained.dataSync()).has(7)).toBe(false);
      tf.dispose([x, y, trained]);
    } finally {
      tf.unregisterKernel(FUSED_CONV2D_KERNEL, 'cpu');
    }
  });

  it('refuses a shortcut that does not fit the output, and activations it cannot fuse', () => {
    const input = tfl.input({ shape: [8, 8, 4] });
    const other = tfl.input({ shape: [8, 8, 6] });
    const layer = new FusedConv2D({ filters: 8, kernelSize: 3, padding: 'same', residual: true });
    expect(() => layer.apply([input, other])).toThrow('does not fit');
    expect(
      () => new FusedConv2D({ filters: 8, kernelSize: 3, activation: 'tanh' as unknown as 'relu' }),
    ).toThrow("expected 'linear' or 'relu'");
    expect(
      () =>
        new FusedConv2D({
          filters: 8,
          kernelSize: 3,
          padding: 'same',
          explicitPadding: [
            [1, 1],
            [1, 1],
          ],
        }),
    ).toThrow("explicitPadding needs padding 'valid'");
  });
});
