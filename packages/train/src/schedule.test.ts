import { learningRate, parseSchedule } from './schedule';

const context = { baseLr: 0.1, totalSteps: 64_000, stepsPerEpoch: 391 };

describe('learning-rate schedules', () => {
  it('piecewise: He et al.’s 0.1, divided by 10 at 32k and 48k iterations', () => {
    const schedule = parseSchedule('piecewise:32000,48000');
    expect(learningRate(schedule, 0, context)).toBeCloseTo(0.1, 12);
    expect(learningRate(schedule, 31_999, context)).toBeCloseTo(0.1, 12);
    expect(learningRate(schedule, 32_000, context)).toBeCloseTo(0.01, 12);
    expect(learningRate(schedule, 48_000, context)).toBeCloseTo(0.001, 12);
  });

  it('piecewise in epochs', () => {
    const schedule = parseSchedule('piecewise:2@epoch');
    expect(learningRate(schedule, 781, context)).toBeCloseTo(0.1, 12);
    expect(learningRate(schedule, 782, context)).toBeCloseTo(0.01, 12);
  });

  it('one-cycle starts at lr/25, peaks at 30% and ends near zero, like PyTorch’s OneCycleLR', () => {
    const schedule = parseSchedule('onecycle');
    const ctx = { baseLr: 0.2, totalSteps: 1000, stepsPerEpoch: 100 };
    expect(learningRate(schedule, 0, ctx)).toBeCloseTo(0.008, 12);
    expect(learningRate(schedule, 299, ctx)).toBeCloseTo(0.2, 12);
    expect(learningRate(schedule, 999, ctx)).toBeCloseTo(0.008 / 1e4, 12);
    expect(learningRate(schedule, 150, ctx)).toBeGreaterThan(learningRate(schedule, 100, ctx));
    expect(learningRate(schedule, 600, ctx)).toBeLessThan(learningRate(schedule, 400, ctx));
  });

  it('cosine halves at mid-run; warm-up ramps linearly', () => {
    expect(learningRate({ name: 'cosine' }, 32_000, context)).toBeCloseTo(0.05, 12);
    expect(learningRate({ name: 'constant' }, 9, { ...context, warmupSteps: 10 })).toBeCloseTo(0.1, 12);
    expect(learningRate({ name: 'constant' }, 4, { ...context, warmupSteps: 10 })).toBeCloseTo(0.05, 12);
  });

  it('names what is wrong with a schedule string', () => {
    expect(() => parseSchedule('step')).toThrow(/must be one of constant, cosine, onecycle, piecewise/);
    expect(() => parseSchedule('piecewise:a,b')).toThrow(/positive milestones/);
    expect(() => parseSchedule('cosine:3')).toThrow(/takes no arguments/);
  });
});
