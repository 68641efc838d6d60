import { ConfigError, parseTrainConfig } from './config';

describe('parseTrainConfig', () => {
  const minimal = { data: 'cifar10', model: 'resnet20' };

  it('fills defaults, with convolution layouts fixed so that runs repeat across processes', () => {
    const config = parseTrainConfig(minimal);
    expect(config).toMatchObject({ epochs: 30, batchSize: 128, valSplit: 0.1, seed: 0, convLayout: 'plain' });
    expect(parseTrainConfig({ ...minimal, convLayout: 'timed' }).convLayout).toBe('timed');
  });

  it('precision: fp32 unless asked; a bad one names the field and the choices', () => {
    expect(parseTrainConfig(minimal).precision).toBe('fp32');
    expect(parseTrainConfig({ ...minimal, backend: 'cuda', precision: 'bf16' })).toMatchObject({
      backend: 'cuda',
      precision: 'bf16',
    });
    expect(() => parseTrainConfig({ ...minimal, precision: 'fp16' })).toThrow(
      /^precision: .*"fp32"\|"tf32"\|"bf16"/,
    );
  });

  it('names every bad field, and unknown ones', () => {
    expect(() => parseTrainConfig({ ...minimal, convLayout: 'nchw', batchSize: 0, epoch: 3 })).toThrow(
      ConfigError,
    );
    try {
      parseTrainConfig({ ...minimal, convLayout: 'nchw', batchSize: 0, epoch: 3 });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/convLayout: .*"plain"\|"blocked"\|"timed"/);
      expect(message).toMatch(/batchSize: /);
      expect(message).toMatch(/epoch/);
    }
  });
});
