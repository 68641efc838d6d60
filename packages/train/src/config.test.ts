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
      /^precision: must be one of fp32, tf32, bf16 \(got "fp16"\)$/,
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
      expect(message).toMatch(/convLayout: must be one of plain, blocked, timed \(got "nchw"\)/);
      expect(message).toMatch(/batchSize: must be greater than 0 \(got 0\)/);
      expect(message).toMatch(/epoch: is not a run config field/);
    }
  });

  /** The ConfigError `input` is refused with. */
  function refusal(input: unknown): ConfigError {
    try {
      parseTrainConfig(input);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('accepted');
  }

  it('says what each bad field must be, in words that follow its name', () => {
    expect(refusal({ model: 'resnet20' }).message).toBe('data: is required');
    expect(refusal({ ...minimal, schedule: 'bogus' }).issues).toEqual([
      {
        path: 'schedule',
        message: 'must be one of constant, cosine, onecycle, piecewise:<m1>,<m2>[@epoch|@step] (got "bogus")',
      },
    ]);
    expect(refusal({ ...minimal, schedule: { name: 'cosine', minLr: -1 } }).issues).toEqual([
      { path: 'schedule.minLr', message: 'must be at least 0 (got -1)' },
    ]);
    expect(refusal({ ...minimal, schedule: { name: 'step' } }).message).toBe(
      'schedule.name: must be one of constant, piecewise, cosine, onecycle (got "step")',
    );
    expect(refusal({ ...minimal, lr: -0.1 }).message).toBe('lr: must be greater than 0 (got -0.1)');
    expect(refusal({ ...minimal, epochs: 1.5 }).message).toBe('epochs: must be an integer (got 1.5)');
    expect(refusal({ ...minimal, optimizer: 'lion' }).message).toBe(
      'optimizer: must be one of sgd, adam, adamw (got "lion")',
    );
    expect(refusal({ ...minimal, augment: 'standrad' }).message).toMatch(
      /^augment: must be one of standard, flip, none or a pipeline/,
    );
    expect(refusal({ ...minimal, augment: { steps: 4 } }).message).toBe(
      'augment.steps: must be a list (got 4)',
    );
  });

  it('describe() names the fields as a front end calls them, issues list them', () => {
    const error = refusal({ model: 'resnet20', lr: -1, colour: 'red' });
    expect(error.issues.map((i) => i.path)).toEqual(['data', 'lr', 'colour']);
    expect(error.describe((path) => `--${path}`)).toBe(
      '--data is required; --lr must be greater than 0 (got -1); --colour is not a run config field',
    );
    // A framed error keeps its frame; plain-text ones have no issues and describe as they are.
    const framed = new ConfigError(
      error.issues.slice(0, 1),
      (problems, name) => `run: ${problems}, see ${name('lr')}`,
    );
    expect(framed.message).toBe('run: data: is required, see lr');
    expect(framed.describe((path) => `--${path}`)).toBe('run: --data is required, see --lr');
    expect(new ConfigError('something: wrong').describe(() => 'x')).toBe('something: wrong');
  });

  it('fine-tuning: pretrained makes model optional; freeze needs it; headLrMult is at least 0', () => {
    expect(parseTrainConfig({ data: 'd', pretrained: 'runs/base' })).toMatchObject({
      pretrained: 'runs/base',
      headLrMult: 1,
    });
    expect(parseTrainConfig({ data: 'd', pretrained: 'runs/base' })).not.toHaveProperty('model');
    expect(parseTrainConfig(minimal)).not.toHaveProperty('freeze');
    expect(refusal({ data: 'd' }).message).toBe('model: is required');
    expect(refusal({ lr: -1, epoch: 3 }).issues.map((i) => i.path)).toEqual(['data', 'model', 'lr', 'epoch']);
    const freeze = refusal({ ...minimal, freeze: 'stage2' });
    expect(freeze.message).toBe(
      'freeze: needs pretrained weights to start from (frozen layers would keep their random initialisation)',
    );
    expect(freeze.describe((path) => `--${path}`)).toBe(
      '--freeze needs --pretrained weights to start from (frozen layers would keep their random initialisation)',
    );
    expect(refusal({ ...minimal, pretrained: 'p', freeze: 'foo' }).message).toBe(
      'freeze: must be one of stem, stage1, stage2, stage3, stage4 (got "foo")',
    );
    expect(refusal({ ...minimal, headLrMult: -1 }).message).toBe('headLrMult: must be at least 0 (got -1)');
    expect(refusal({ ...minimal, pretrainedSha256: 'abc' }).message).toBe(
      'pretrainedSha256: must be 64 hex digits (got "abc")',
    );
  });

  it('limitPerClass and maxSteps (0: no limit) are optional counts', () => {
    expect(parseTrainConfig({ ...minimal, limitPerClass: 5, maxSteps: 0 })).toMatchObject({
      limitPerClass: 5,
      maxSteps: 0,
    });
    expect(parseTrainConfig(minimal)).not.toHaveProperty('maxSteps');
    expect(refusal({ ...minimal, limitPerClass: 0 }).message).toBe(
      'limitPerClass: must be greater than 0 (got 0)',
    );
    expect(refusal({ ...minimal, maxSteps: -1 }).message).toBe('maxSteps: must be at least 0 (got -1)');
  });
});
