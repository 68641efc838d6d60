import type { Preprocessing } from './assemble';
import { reopenOptions } from './preprocess';

const pipeline = (inputSize: [number, number], evalSteps: Preprocessing['eval']['steps']): Preprocessing => ({
  train: { steps: [], normalization: { mode: 'none' } },
  eval: { steps: evalSteps, normalization: { mode: 'none' } },
  inputSize,
});

describe('reopenOptions', () => {
  it('opens large-image runs by imageSize, as they were', () => {
    const large = pipeline([224, 224], [{ op: 'resizeAndCenterCrop', shorter: 256, size: 224 }]);
    expect(reopenOptions(large, 224)).toEqual({ imageSize: 224 });
  });

  it('decodes decoded-image runs in memory again, at the size they trained at', () => {
    expect(reopenOptions(pipeline([48, 48], []), 48)).toEqual({ inMemory: true, imageSize: 48 });
    expect(reopenOptions(pipeline([32, 32], []), undefined)).toEqual({
      inMemory: true,
      imageSize: undefined,
    });
    // cifar10 once ignored imageSize: such a run trained at 32 and must not be resized now.
    expect(reopenOptions(pipeline([32, 32], []), 64)).toEqual({ inMemory: true, imageSize: undefined });
  });
});
