import { compose } from './compose';
import type { RgbImage } from './image';
import { padCropFlip } from './ops/pad-crop-flip';
import { sampleRandom } from './random';

const image: RgbImage = {
  data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256),
  width: 32,
  height: 32,
  channels: 3,
};

describe('compose', () => {
  it('a JSON spec gives the same result as the ops it names, keyed by (seed, epoch, index)', async () => {
    const spec = JSON.parse(JSON.stringify({ steps: [{ op: 'padCropFlip', padding: 4 }] }));
    const pipeline = compose(spec);
    const key = { seed: 5, epoch: 2, index: 17 };
    const { image: out } = await pipeline(image, key);
    expect(out).toEqual(padCropFlip(image, 4, sampleRandom(5, 2, 17)));
    expect((await pipeline(image, key)).image).toEqual(out);
    expect((await pipeline(image, { ...key, index: 18 })).image).not.toEqual(out);
  });

  it('normalises last and returns float values', async () => {
    const pipeline = compose({
      steps: [
        { op: 'colorJitter', brightness: 0.2 },
        { op: 'randomErasing', probability: 1 },
      ],
      normalization: { mode: 'tf' },
    });
    const { values } = await pipeline(image, { seed: 1, epoch: 0, index: 0 });
    expect(values).toHaveLength(32 * 32 * 3);
    expect(Math.min(...values!)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values!)).toBeLessThanOrEqual(1);
  });

  it('names the bad step and field', () => {
    expect(() => compose({ steps: [{ op: 'rotate' } as never] })).toThrow(
      /^steps\[0\]\.op: expected one of padCropFlip/,
    );
    expect(() => compose({ steps: [{ op: 'flip' }, { op: 'randomResizedCrop', size: 0 }] })).toThrow(
      'steps[1].size: expected a positive integer, got 0',
    );
    expect(() => compose({ steps: [{ op: 'flip', horizontal: 2 }] })).toThrow(
      'steps[0].horizontal: expected a probability 0–1, got 2',
    );
  });
});
