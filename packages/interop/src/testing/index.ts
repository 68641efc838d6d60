// Test helpers: the committed fixtures (scripts/make-fixtures.sh writes them with the real frameworks).
// The ONNX tests' comparison with onnxruntime-node is ./onnxruntime (it loads onnxruntime-node).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '../formats/safetensors';
import type { SourceTensor } from '../tensors';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

export const fixture = (name: string) => path.join(FIXTURES, name);

export function fixtureBytes(name: string): Uint8Array {
  const buffer = readFileSync(fixture(name));
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A fixture's seeded NHWC input and the framework's logits for it. */
export function fixtureIo(name: string): { input: SourceTensor; logits: SourceTensor } {
  const tensors = readSafetensors(fixtureBytes(`${name}.io.safetensors`), name);
  return { input: tensors.get('input') as SourceTensor, logits: tensors.get('logits') as SourceTensor };
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** A safetensors file of float32 tensors (for tests that edit a state dict). */
export function encodeSafetensors(tensors: Map<string, SourceTensor>, headerLength?: number): Uint8Array {
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.values.length * 4] };
    offset += t.values.length * 4;
  }
  // The format allows trailing spaces in the header: they set its length.
  const text = JSON.stringify(header);
  const json = new TextEncoder().encode(headerLength ? text.padEnd(headerLength) : text);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(Float32Array.from(t.values).buffer), at);
    at += t.values.length * 4;
  }
  return out;
}
