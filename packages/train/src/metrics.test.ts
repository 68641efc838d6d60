import { crossEntropySum } from './evaluate';
import { ClassificationMetrics } from './metrics';

describe('ClassificationMetrics', () => {
  it('counts top-1, top-5 and the confusion matrix', () => {
    const metrics = new ClassificationMetrics(6);
    // sample 0: truth 2, best 2; sample 1: truth 0, ranked 6th; sample 2: truth 5, ranked 2nd.
    const scores = Float32Array.from([0, 1, 9, 2, 3, 4, /**/ 0, 1, 2, 3, 4, 5, /**/ 1, 2, 3, 4, 9, 5]);
    const predictions = metrics.add(scores, [2, 0, 5], 3);
    expect(Array.from(predictions)).toEqual([2, 5, 4]);
    expect(metrics.summary()).toEqual({ loss: 1, top1: 1 / 3, top5: 2 / 3, count: 3 });
    expect(metrics.matrix()[5]).toEqual([0, 0, 0, 0, 1, 0]);
    expect(metrics.perClassAccuracy().slice(0, 3)).toEqual([0, Number.NaN, 1]);
    expect(ClassificationMetrics.fromJSON(6, metrics.toJSON()).summary()).toEqual(metrics.summary());
  });

  it('cross-entropy from logits and from probabilities agree', () => {
    const logits = Float32Array.from([1, 2, 3]);
    const exp = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const total = exp[0]! + exp[1]! + exp[2]!;
    const probabilities = Float32Array.from(exp.map((e) => e / total));
    expect(crossEntropySum(logits, [0], 3, 'logits')).toBeCloseTo(-Math.log(exp[0]! / total), 6);
    expect(crossEntropySum(probabilities, [0], 3, 'probabilities')).toBeCloseTo(
      crossEntropySum(logits, [0], 3, 'logits'),
      5,
    );
  });

  it('counts NaN scores as misses', () => {
    const metrics = new ClassificationMetrics(3);
    metrics.add(Float32Array.from([Number.NaN, Number.NaN, Number.NaN]), [1], 0);
    expect(metrics.summary()).toMatchObject({ top1: 0, top5: 0 });
  });
});
