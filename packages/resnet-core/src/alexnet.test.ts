import { buildAlexNet } from './alexnet';
import { countFlops, countParams } from './count';
import { withPlaceholderWeights } from './layer-helpers';

const skeleton = (config: Parameters<typeof buildAlexNet>[0]) =>
  withPlaceholderWeights(() => buildAlexNet(config));

describe('buildAlexNet', () => {
  it('has the single-tower AlexNet’s 62,378,344 parameters at 227x227', () => {
    // conv 34,944 + 614,656 + 885,120 + 1,327,488 + 884,992; fc 37,752,832 + 16,781,312 + 4,097,000.
    const model = skeleton({});
    expect(countParams(model)).toEqual({ trainable: 62_378_344, nonTrainable: 0, total: 62_378_344 });
    expect(model.outputs[0]!.shape).toEqual([null, 1000]);
    // 1.14 G multiply-adds for the merged towers (the two-GPU split halves conv2, conv4 and conv5).
    expect(countFlops(model) / 1e9).toBeCloseTo(1.135, 2);
    model.dispose();
  });

  it('names its layers and switches normalisation', () => {
    const lrn = skeleton({ numClasses: 30, inputShape: [128, 128, 3] });
    expect(lrn.layers.map((l) => l.name)).toEqual(
      expect.arrayContaining(['norm1', 'norm2', 'fc6_dropout', 'predictions']),
    );
    const bn = skeleton({
      numClasses: 30,
      inputShape: [128, 128, 3],
      normalization: 'batchnorm',
      dropout: 0,
    });
    const names = bn.layers.map((l) => l.name);
    expect(names).toContain('conv5_bn');
    expect(names).not.toContain('norm1');
    expect(names).not.toContain('fc6_dropout');
  });

  it('rejects inputs too small for its pooling', () => {
    expect(() => buildAlexNet({ inputShape: [32, 32, 3] })).toThrow(
      /inputShape: AlexNet needs .* at least 67/,
    );
    expect(() => buildAlexNet({ normalization: 'group' as 'lrn' })).toThrow(/normalization: expected 'lrn'/);
  });
});
