import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32c, readScalarEvents, TensorBoardWriter } from './tensorboard';

describe('TensorBoard event files', () => {
  it('crc32c matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('writes scalar events that read back with valid CRCs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tb-'));
    const writer = new TensorBoardWriter(dir);
    writer.scalars({ 'train/loss': 1.5, 'val/top1': 0.25 }, 3);
    writer.scalar('lr', 0.1, 300);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = readScalarEvents(readFileSync(path.join(dir, files[0]!)));
    expect(events).toEqual([
      { tag: 'train/loss', value: 1.5, step: 3 },
      { tag: 'val/top1', value: 0.25, step: 3 },
      { tag: 'lr', value: expect.closeTo(0.1, 7), step: 300 },
    ]);
  });
});
