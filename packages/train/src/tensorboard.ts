import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EpochRecord } from './checkpoint';

// TensorBoard reads TFRecord files of `Event` protocol buffers. This writer emits the few fields a
// scalar needs: Event{wall_time=1 (double), step=2 (int64), file_version=3 | summary=5},
// Summary{value=1}, Summary.Value{tag=1, simple_value=2 (float)}. Records are
// [u64 length][u32 masked crc32c(length)][data][u32 masked crc32c(data)].

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function maskedCrc(data: Uint8Array): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const field = (number: number, wireType: number) => varint((number << 3) | wireType);

function bytesField(number: number, bytes: Uint8Array): number[] {
  return [...field(number, 2), ...varint(bytes.length), ...bytes];
}

function doubleField(number: number, value: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return [...field(number, 1), ...b];
}

function floatField(number: number, value: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return [...field(number, 5), ...b];
}

function event(step: number, body: number[]): Uint8Array {
  return Uint8Array.from([...doubleField(1, Date.now() / 1000), ...field(2, 0), ...varint(step), ...body]);
}

function record(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc(data), 0);
  return Buffer.concat([header, data, footer]);
}

const EVENT_FILE = /^events\.out\.tfevents\.(\d+)\./;

/**
 * Appends scalar summaries to `dir/events.out.tfevents.<time>.<host>.<pid>`, readable by TensorBoard.
 * Each writer starts a new file whose time is later than every event file already in `dir`, so
 * that TensorBoard, which reads a run's files in name order, reads a resumed run's file last.
 */
export class TensorBoardWriter {
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    let time = Math.floor(Date.now() / 1000);
    for (const name of readdirSync(dir)) {
      const match = EVENT_FILE.exec(name);
      if (match) time = Math.max(time, Number(match[1]) + 1);
    }
    this.file = path.join(dir, `events.out.tfevents.${time}.${os.hostname()}.${process.pid}`);
    appendFileSync(this.file, record(event(0, bytesField(3, Buffer.from('brain.Event:2')))));
  }

  scalar(tag: string, value: number, step: number): void {
    const summaryValue = [...bytesField(1, Buffer.from(tag)), ...floatField(2, value)];
    const summary = bytesField(1, Uint8Array.from(summaryValue));
    appendFileSync(this.file, record(event(step, bytesField(5, Uint8Array.from(summary)))));
  }

  scalars(values: Record<string, number>, step: number): void {
    for (const [tag, value] of Object.entries(values)) this.scalar(tag, value, step);
  }
}

/** The TensorBoard runs (sub-folders) of a training run's `logs/tensorboard`, as Keras names them. */
export const TENSORBOARD_RUNS = { train: 'train', validation: 'validation' } as const;

/**
 * A training run's TensorBoard logs in the layout of Keras's TensorBoard callback: `train/` and
 * `validation/` runs, each with its own event files, under the same tags (`epoch_loss`,
 * `epoch_accuracy`, `epoch_top5_accuracy`), so TensorBoard draws train and validation on one chart.
 * Epoch scalars (`epoch_*`) are at step = epoch (1-based, as in metrics.jsonl and the report);
 * per-step scalars (`batch_loss`, `batch_learning_rate`) at the global step. The learning rate is
 * logged in `train/` only: once an epoch (`epoch_learning_rate`) and every `logEvery` steps.
 *
 * A resumed run writes new files (see TensorBoardWriter); TensorBoard drops a tag's points from the
 * step where a later file takes the tag up again, so steps logged after the checkpoint by a killed
 * run are replaced, not doubled (readTensorBoardRun shows what it will draw).
 */
export class TrainingTensorBoard {
  readonly train: TensorBoardWriter;
  private validationWriter?: TensorBoardWriter;

  constructor(readonly dir: string) {
    this.train = new TensorBoardWriter(path.join(dir, TENSORBOARD_RUNS.train));
  }

  /** The validation run's writer, made on first use (a run without validation data has none). */
  get validation(): TensorBoardWriter {
    this.validationWriter ??= new TensorBoardWriter(path.join(this.dir, TENSORBOARD_RUNS.validation));
    return this.validationWriter;
  }

  step(step: number, values: { loss: number; lr: number }): void {
    this.train.scalars({ batch_loss: values.loss, batch_learning_rate: values.lr }, step);
  }

  epoch(record: EpochRecord): void {
    this.train.scalars(
      {
        epoch_loss: record.train.loss,
        epoch_accuracy: record.train.top1,
        epoch_top5_accuracy: record.train.top5,
        epoch_learning_rate: record.lr,
        epoch_images_per_second: record.imagesPerSecond,
        epoch_data_wait_share: record.dataWaitShare,
      },
      record.epoch,
    );
    if (record.val) {
      this.validation.scalars(
        {
          epoch_loss: record.val.loss,
          epoch_accuracy: record.val.top1,
          epoch_top5_accuracy: record.val.top5,
        },
        record.epoch,
      );
    }
  }
}

/**
 * The scalars TensorBoard shows for one run folder: its event files read in name order, where a
 * tag's point at a step at or before the tag's last one drops the points from that step on (how
 * TensorBoard handles a restarted job).
 */
export function readTensorBoardRun(dir: string): Map<string, { step: number; value: number }[]> {
  const series = new Map<string, { step: number; value: number }[]>();
  const names = readdirSync(dir)
    .filter((name) => name.includes('tfevents'))
    .sort();
  for (const name of names) {
    for (const { tag, value, step } of readScalarEvents(readFileSync(path.join(dir, name)))) {
      const points = series.get(tag) ?? [];
      while (points.length > 0 && (points.at(-1) as { step: number }).step >= step) points.pop();
      points.push({ step, value });
      series.set(tag, points);
    }
  }
  return series;
}

/** Reads back the scalars of an event file (for tests and reports); checks every CRC. */
export function readScalarEvents(data: Buffer): { tag: string; value: number; step: number }[] {
  const out: { tag: string; value: number; step: number }[] = [];
  let offset = 0;
  while (offset < data.length) {
    const length = Number(data.readBigUInt64LE(offset));
    if (data.readUInt32LE(offset + 8) !== maskedCrc(data.subarray(offset, offset + 8)))
      throw new Error(`bad length crc at ${offset}`);
    const body = data.subarray(offset + 12, offset + 12 + length);
    if (data.readUInt32LE(offset + 12 + length) !== maskedCrc(body))
      throw new Error(`bad data crc at ${offset}`);
    offset += 16 + length;
    const fields = parseMessage(body);
    const summary = fields.get(5);
    if (!summary) continue;
    const step = Number(fields.get(2) ?? 0);
    const value = parseMessage(parseMessage(summary as Uint8Array).get(1) as Uint8Array);
    out.push({
      tag: Buffer.from(value.get(1) as Uint8Array).toString(),
      value: value.get(2) as number,
      step,
    });
  }
  return out;
}

function parseMessage(bytes: Uint8Array): Map<number, Uint8Array | number | bigint> {
  const fields = new Map<number, Uint8Array | number | bigint>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 0;
  const readVarint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[i++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (!(byte & 0x80)) return result;
    }
  };
  while (i < bytes.length) {
    const key = Number(readVarint());
    const number = key >> 3;
    switch (key & 7) {
      case 0:
        fields.set(number, readVarint());
        break;
      case 1:
        fields.set(number, view.getFloat64(i, true));
        i += 8;
        break;
      case 5:
        fields.set(number, view.getFloat32(i, true));
        i += 4;
        break;
      case 2: {
        const length = Number(readVarint());
        fields.set(number, bytes.subarray(i, i + length));
        i += length;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
  return fields;
}
