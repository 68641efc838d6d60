import { centerCropOffsets } from './resize';

describe('resizing and crops', () => {
  it('center crop geometry', () => {
    expect(centerCropOffsets(256, 341, 224)).toEqual([58, 16]);
    expect(centerCropOffsets(5, 5, 3)).toEqual([1, 1]);
    expect(() => centerCropOffsets(100, 80, 90)).toThrow('center crop 90 does not fit in 100x80');
  });
});
