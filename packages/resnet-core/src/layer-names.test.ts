import type * as tfl from '@tensorflow/tfjs-layers';
import type { ResNetConfig } from './config';
import { withPlaceholderWeights } from './layer-helpers';
import {
  blockLayerName,
  type LayerSpec,
  layerName,
  padNameOf,
  parseLayerName,
  reluNameOf,
} from './layer-names';
import { buildResNet } from './resnet';
import { splitBatchNormRelu, stockSubsampleZeroPad, subsampleZeroPadChannels } from './stock';

const skeleton = (config: ResNetConfig) => withPlaceholderWeights(() => buildResNet(config));

type SavedLayers = { model_config: { config: { layers: { config: { name: string } }[] } } };
const savedNames = (topology: object) =>
  (topology as SavedLayers).model_config.config.layers.map((layer) => layer.config.name);

describe('layer names', () => {
  it.each<[string, ResNetConfig]>([
    ['ResNet-50, stride on the 3x3', { depth: 50 }],
    ['ResNet-50, stride on the 1x1, dropout', { depth: 50, strideOn: '1x1', dropout: 0.2 }],
    [
      'ResNet-18 v2, max-pooled features',
      { depth: 18, preactivation: true, includeTop: false, pooling: 'max' },
    ],
    ['ResNet-20, option A', { depth: 20 }],
    ['ResNet-8, option C, fused batch norm + ReLU', { depth: 8, shortcut: 'C', fuseBatchNormRelu: true }],
    ['ResNet-11 bottleneck v2', { depth: 11, block: 'bottleneck', preactivation: true }],
  ])('%s: every layer name reads back and is written the same', (_, config) => {
    const model = skeleton(config);
    for (const layer of model.layers) {
      const spec = parseLayerName(layer.name);
      expect([layer.name, spec && layerName(spec)]).toEqual([layer.name, layer.name]);
    }
    model.dispose();
  });

  it('reads the place of a layer', () => {
    expect(parseLayerName('conv3_block1_0_conv')).toEqual({
      at: 'block',
      stage: 3,
      block: 1,
      layer: 'conv',
      conv: 0,
    });
    expect(parseLayerName('conv12_block36_3_bn')).toEqual({
      at: 'block',
      stage: 12,
      block: 36,
      layer: 'bn',
      conv: 3,
    });
    expect(parseLayerName('conv2_block2_preact_relu')).toEqual({
      at: 'block',
      stage: 2,
      block: 2,
      layer: 'preact_relu',
    });
    expect(parseLayerName('conv3_block1_0_shortcut_channels_first')).toEqual({
      at: 'block',
      stage: 3,
      block: 1,
      layer: 'shortcut',
      stock: 'channels_first',
    });
    expect(parseLayerName('conv1_pad')).toEqual({ at: 'stem', layer: 'pad' });
    expect(parseLayerName('pool1_pool')).toEqual({ at: 'pool1', layer: 'pool' });
    expect(parseLayerName('post_bn')).toEqual({ at: 'post', layer: 'bn' });
    expect(parseLayerName('top_dropout')).toEqual({ at: 'top', layer: 'top_dropout' });
    expect(parseLayerName('input_1')).toEqual({ at: 'input' });
  });

  it('round-trips every kind of spec', () => {
    const specs: LayerSpec[] = [
      { at: 'input' },
      ...(['pad', 'conv', 'bn', 'relu'] as const).map((layer) => ({ at: 'stem' as const, layer })),
      { at: 'pool1', layer: 'pad' },
      { at: 'pool1', layer: 'pool' },
      { at: 'block', stage: 5, block: 3, layer: 'relu', conv: 2 },
      { at: 'block', stage: 2, block: 1, layer: 'pad', conv: 2 },
      { at: 'block', stage: 4, block: 10, layer: 'shortcut' },
      { at: 'block', stage: 4, block: 1, layer: 'shortcut', stock: 'subsample' },
      { at: 'block', stage: 4, block: 1, layer: 'shortcut', stock: 'pad' },
      { at: 'block', stage: 3, block: 2, layer: 'add' },
      { at: 'block', stage: 3, block: 2, layer: 'out' },
      { at: 'block', stage: 3, block: 2, layer: 'preact_bn' },
      { at: 'post', layer: 'relu' },
      ...(['avg_pool', 'max_pool', 'top_dropout', 'predictions'] as const).map((layer) => ({
        at: 'top' as const,
        layer,
      })),
    ];
    for (const spec of specs) expect(parseLayerName(layerName(spec))).toEqual(spec);
  });

  it('reads no name that resnet-core does not write', () => {
    for (const name of [
      'conv1',
      'dense_1',
      'conv1_block1_1_conv',
      'conv02_block1_1_conv',
      'conv2_block0_1_conv',
      'conv2_block1_01_conv',
      'conv2_block1_1_dense',
      'conv2_block1_sum',
      'conv2_block1_1_shortcut',
      'conv1_pool',
      'pool1_bn',
      'predictions_1',
    ]) {
      expect([name, parseLayerName(name)]).toEqual([name, undefined]);
    }
  });

  it('refuses to write a stage before the first or a block 0', () => {
    expect(() => layerName({ at: 'block', stage: 1, block: 1, layer: 'add' })).toThrow(
      'layer name: stage must be an integer of at least 2, got 1',
    );
    expect(() => layerName({ at: 'block', stage: 2, block: 0, layer: 'add' })).toThrow(/block must be/);
  });

  it('names the layers of blocks with prefixes of their own', () => {
    expect(blockLayerName('res2a', { layer: 'conv', conv: 1 })).toBe('res2a_1_conv');
    expect(blockLayerName('res2a', { layer: 'shortcut', stock: 'pad' })).toBe('res2a_0_shortcut_pad');
    expect(padNameOf('conv3_block1_2_conv')).toBe('conv3_block1_2_pad');
    expect(padNameOf('stem')).toBe('stem_pad');
    expect(reluNameOf('conv1_bn')).toBe('conv1_relu');
    expect(reluNameOf('norm')).toBe('norm_relu');
  });
});

describe('stock layers', () => {
  const topologyOf = (model: tfl.LayersModel) =>
    JSON.parse(JSON.stringify({ model_config: model.toJSON(null, false) }));

  it('splitBatchNormRelu gives the fused model the unfused model’s layer names', () => {
    const fused = skeleton({ depth: 8, fuseBatchNormRelu: true, preactivation: true });
    const plain = skeleton({ depth: 8, preactivation: true });
    const topology = topologyOf(fused);
    splitBatchNormRelu(topology);
    expect(JSON.stringify(topology)).not.toContain('ResNetBatchNormReLU');
    expect(savedNames(topology).sort()).toEqual(plain.layers.map((layer) => layer.name).sort());
    fused.dispose();
    plain.dispose();
  });

  it('stockSubsampleZeroPad writes each option-A shortcut as four stock layers named after it', () => {
    const model = skeleton({ depth: 8 });
    const channels = subsampleZeroPadChannels(model);
    expect([...channels]).toEqual([
      ['conv3_block1_0_shortcut', 16],
      ['conv4_block1_0_shortcut', 32],
    ]);
    const topology = topologyOf(model);
    stockSubsampleZeroPad(topology, channels);
    expect(JSON.stringify(topology)).not.toContain('ResNetSubsampleZeroPad');
    const names = savedNames(topology);
    expect(names.filter((name) => name.startsWith('conv3_block1_0_shortcut'))).toEqual([
      'conv3_block1_0_shortcut_subsample',
      'conv3_block1_0_shortcut_channels_first',
      'conv3_block1_0_shortcut_pad',
      'conv3_block1_0_shortcut',
    ]);
    for (const name of names) expect(parseLayerName(name)).toBeDefined();
    model.dispose();
  });
});
