import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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

/** Appends scalar summaries to `dir/events.out.tfevents.<time>.<host>`, readable by TensorBoard. */
export class TensorBoardWriter {
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(
      dir,
      `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${os.hostname()}.${process.pid}`,
    );
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
