import { buildAlexNet } from './alexnet';
import { countFlops, countParams, summary } from './count';
import { withPlaceholderWeights } from './layer-helpers';
import { buildResNet } from './resnet';

// Placeholder (zero) weights: the graph is the same, and jest's sandbox makes drawing 60M random
// numbers take tens of seconds.
const skeleton = (config: Parameters<typeof buildResNet>[0]) =>
  withPlaceholderWeights(() => buildResNet(config));

describe('countParams', () => {
  // torchvision's resnet{18,34,50,101,152}: projection shortcuts (B), no conv bias, 1000 classes.
  const torchvision: [number, number][] = [
    [18, 11_689_512],
    [34, 21_797_672],
    [50, 25_557_032],
    [101, 44_549_160],
    [152, 60_192_808],
  ];
  it.each(torchvision)('ResNet-%i has torchvision’s %i trainable parameters', (depth, expected) => {
    const model = skeleton({ depth });
    expect(countParams(model).trainable).toBe(expected);
    model.dispose();
  });

  // He et al. (2015), table 6: option A shortcuts, 10 classes.
  const cifar: [number, number][] = [
    [20, 269_722],
    [32, 464_154],
    [44, 658_586],
    [56, 853_018],
    [110, 1_727_962],
  ];
  it.each(cifar)('CIFAR ResNet-%i (option A) has %i trainable parameters', (depth, expected) => {
    const model = skeleton({ depth, numClasses: 10 });
    expect(countParams(model).trainable).toBe(expected);
    model.dispose();
  });

  it('counts BN moving statistics as non-trainable', () => {
    const model = buildResNet({ depth: 20, numClasses: 10 });
    // 19 BN layers of 16/32/64 channels: 2 × (16·7 + 32·6 + 64·6) moving statistics.
    expect(countParams(model).nonTrainable).toBe(2 * (16 * 7 + 32 * 6 + 64 * 6));
    expect(countParams(model).total).toBe(269_722 + 2 * (16 * 7 + 32 * 6 + 64 * 6));
    model.dispose();
  });
});

describe('countFlops', () => {
  const near = (actual: number, expectedG: number) => {
    expect(Math.abs(actual / 1e9 - expectedG) / expectedG).toBeLessThan(0.005);
  };
  it.each([
    [18, 1.814],
    [34, 3.664],
    [50, 4.089],
    [101, 7.801],
    [152, 11.514],
  ])('ResNet-%i with the stride on the 3x3: %f G multiply-adds', (depth, expected) => {
    near(countFlops({ depth }), expected);
  });

  it.each([
    [50, 3.858],
    [101, 7.57],
    [152, 11.282],
  ])('ResNet-%i with the stride on the 1x1 (the paper): %f G', (depth, expected) => {
    near(countFlops({ depth, strideOn: '1x1' }), expected);
  });

  it('gives the same count for a config and for the model it builds', () => {
    const model = buildResNet({ depth: 20, numClasses: 10 });
    expect(countFlops(model)).toBe(countFlops({ depth: 20, numClasses: 10 }));
    model.dispose();
  });

  it('scales with the input area', () => {
    expect(countFlops({ depth: 20, inputShape: [64, 64, 3] }) - 64 * 1000).toBeCloseTo(
      4 * (countFlops({ depth: 20 }) - 64 * 1000),
    );
  });

  it('rejects a variable input size with a clear error', () => {
    expect(() => countFlops({ depth: 20, inputShape: [null, null, 3] })).toThrow(
      /inputShape: .*fixed input size/,
    );
  });
});

describe('summary', () => {
  it('lists layers and ends with parameter and FLOP totals', () => {
    const model = buildResNet({ depth: 20, numClasses: 10 });
    const text = summary(model);
    expect(text).toContain('conv2_block1_1_conv');
    expect(text).toContain('predictions');
    expect(text).toMatch(/FLOPs: 0\.041 G multiply-adds per image/);
    expect(text).toMatch(/Parameters: 271,098 \(269,722 trainable\)/);
    model.dispose();
  });

  it('fits every column to its widest cell, so no shape or name is cut', () => {
    const model = withPlaceholderWeights(() => buildResNet({ depth: 50, numClasses: 1000 }));
    const lines = summary(model).split('\n');
    const row = (layer: string) => lines.find((l) => l.startsWith(`${layer} `)) ?? '';
    // tfjs's fixed fractions of a line printed `[null,56,56,6` here.
    expect(row('pool1_pool')).toMatch(/ \[null,56,56,64\] +0 +pool1_pad\[0\]\[0\]$/);
    expect(row('conv5_block3_add')).toContain('[[null,7,7,2048],[null,7,7,2048]] ');
    expect(row('conv2_block1_0_conv')).toMatch(/ \[null,56,56,256\] +16384 +pool1_pool\[0\]\[0\]$/);
    const rules = lines.filter((l) => /^[_=]+$/.test(l));
    expect(new Set(rules.map((l) => l.length)).size).toBe(1);
    expect(Math.max(...lines.map((l) => l.length))).toBe(rules[0]!.length);
    model.dispose();
  });

  it('a sequential-like model (AlexNet) gets four columns and rules as long as them', () => {
    const model = withPlaceholderWeights(() => buildAlexNet({ numClasses: 10 }));
    const lines = summary(model).split('\n');
    expect(lines[1]).not.toContain('Receives inputs');
    const rules = lines.filter((l) => /^[_=]+$/.test(l));
    expect(Math.max(...lines.map((l) => l.length))).toBe(rules[0]!.length);
    expect(lines.find((l) => l.startsWith('conv1 '))).toMatch(/\[null,55,55,96\] +34944$/);
    model.dispose();
  });
});
