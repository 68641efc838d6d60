import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EpochRecord } from './checkpoint';
import {
  crc32c,
  readScalarEvents,
  readTensorBoardRun,
  TensorBoardWriter,
  TrainingTensorBoard,
} from './tensorboard';

const record = (epoch: number, val = true): EpochRecord => ({
  type: 'epoch',
  epoch,
  step: epoch * 10,
  lr: 0.1 / epoch,
  train: { loss: 1 / epoch, top1: 0.5, top5: 0.875, count: 80 },
  val: val ? { loss: 2 / epoch, top1: 0.25, top5: 0.75, count: 8 } : undefined,
  seconds: 2,
  imagesPerSecond: 40,
  dataWaitSeconds: 0.5,
  dataWaitShare: 0.25,
});

/** A run folder's series, as tag -> [step, value] pairs. */
const series = (dir: string) =>
  Object.fromEntries(
    [...readTensorBoardRun(dir)].map(([tag, points]) => [tag, points.map((p) => [p.step, p.value])]),
  );

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

  it('a new writer in the same folder starts a file that sorts after the ones there', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tb-'));
    const first = new TensorBoardWriter(dir);
    const second = new TensorBoardWriter(dir);
    const third = new TensorBoardWriter(dir);
    expect(new Set([first.file, second.file, third.file]).size).toBe(3);
    expect(
      readdirSync(dir)
        .sort()
        .map((f) => path.join(dir, f)),
    ).toEqual([first.file, second.file, third.file]);
  });
});

describe('TrainingTensorBoard (the layout of Keras’s TensorBoard callback)', () => {
  it('writes train/ and validation/ runs under the same epoch tags, steps under batch_ tags, one LR tag each', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tb-'));
    const board = new TrainingTensorBoard(dir);
    board.step(5, { loss: 1.5, lr: 0.1 });
    board.epoch(record(1));
    board.step(10, { loss: 1.25, lr: 0.05 });
    board.epoch(record(2));
    expect(readdirSync(dir).sort()).toEqual(['train', 'validation']);
    for (const run of ['train', 'validation']) {
      const files = readdirSync(path.join(dir, run));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
    }
    const train = series(path.join(dir, 'train'));
    const validation = series(path.join(dir, 'validation'));
    expect(Object.keys(train).sort()).toEqual([
      'batch_learning_rate',
      'batch_loss',
      'epoch_accuracy',
      'epoch_data_wait_share',
      'epoch_images_per_second',
      'epoch_learning_rate',
      'epoch_loss',
      'epoch_top5_accuracy',
    ]);
    expect(Object.keys(validation).sort()).toEqual(['epoch_accuracy', 'epoch_loss', 'epoch_top5_accuracy']);
    expect(train.epoch_loss).toEqual([
      [1, 1],
      [2, 0.5],
    ]);
    expect(validation.epoch_loss).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(validation.epoch_accuracy).toEqual([
      [1, 0.25],
      [2, 0.25],
    ]);
    expect(train.epoch_top5_accuracy).toEqual([
      [1, 0.875],
      [2, 0.875],
    ]);
    expect(train.batch_loss).toEqual([
      [5, 1.5],
      [10, 1.25],
    ]);
    expect(train.batch_learning_rate!.map(([step]) => step)).toEqual([5, 10]);
    expect(train.epoch_learning_rate!.map(([step]) => step)).toEqual([1, 2]);
  });

  it('a run without validation data has no validation/ folder', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tb-'));
    new TrainingTensorBoard(dir).epoch(record(1, false));
    expect(readdirSync(dir)).toEqual(['train']);
  });

  it('resumed, appends in new files; what TensorBoard shows drops the points a killed run logged after its checkpoint', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tb-'));
    // The first process logs steps 2..8 and epoch 1, then dies; its checkpoint is at step 4.
    const killed = new TrainingTensorBoard(dir);
    for (const step of [2, 4, 6, 8]) killed.step(step, { loss: 100 + step, lr: 0.1 });
    killed.epoch(record(1));
    // The second resumes from step 4 (still in epoch 1) and logs it all again.
    const resumed = new TrainingTensorBoard(dir);
    for (const step of [6, 8, 10]) resumed.step(step, { loss: step, lr: 0.1 });
    resumed.epoch({ ...record(1), train: { ...record(1).train, loss: 0.75 } });
    expect(readdirSync(path.join(dir, 'train'))).toHaveLength(2);
    expect(readdirSync(path.join(dir, 'validation'))).toHaveLength(2);
    const train = series(path.join(dir, 'train'));
    expect(train.batch_loss).toEqual([
      [2, 102],
      [4, 104],
      [6, 6],
      [8, 8],
      [10, 10],
    ]);
    expect(train.epoch_loss).toEqual([[1, 0.75]]);
    expect(series(path.join(dir, 'validation')).epoch_loss).toEqual([[1, 2]]);
  });
});
