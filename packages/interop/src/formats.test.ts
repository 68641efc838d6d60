import { detectWeightFormat } from './convert';
import { readSafetensors } from './formats/safetensors';
import type { SourceTensor } from './tensors';
import { encodeSafetensors } from './testing';

const tensors = new Map<string, SourceTensor>([
  ['a.weight', { dtype: 'float32', shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
  ['b', { dtype: 'float32', shape: [], values: Float32Array.from([-7.5]) }],
]);

describe('safetensors', () => {
  it('reads back what was written, in file order', () => {
    const read = readSafetensors(encodeSafetensors(tensors), 'x');
    expect([...read.keys()]).toEqual(['a.weight', 'b']);
    expect(read.get('a.weight')).toEqual({
      dtype: 'float32',
      shape: [2, 3],
      values: Float32Array.from([1, 2, 3, 4, 5, 6]),
    });
    expect(Array.from(read.get('b')?.values ?? [])).toEqual([-7.5]);
  });

  it('is told from a legacy PyTorch pickle when its header length starts with 0x80', () => {
    const bytes = encodeSafetensors(tensors, 0x180);
    expect(bytes[0]).toBe(0x80);
    expect(detectWeightFormat(bytes, 'x')).toBe('safetensors');
  });

  it('widens float16 and bfloat16 to float32', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
    });
    const bytes = new Uint8Array(8 + header.length + 6);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    view.setUint16(8 + header.length, 0x3c00, true); // 1.0
    view.setUint16(8 + header.length + 2, 0xc000, true); // -2.0
    view.setUint16(8 + header.length + 4, 0x4049, true); // bf16 3.140625
    const read = readSafetensors(bytes, 'x');
    expect(Array.from(read.get('h')?.values ?? [])).toEqual([1, -2]);
    expect(read.get('b')?.values[0]).toBeCloseTo(3.140625, 6);
  });
});
