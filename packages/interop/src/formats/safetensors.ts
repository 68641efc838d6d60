import { WeightFileError } from '../errors';
import {
  bytesPerElement,
  decodeElements,
  elementCount,
  type SourceDtype,
  type SourceTensors,
} from '../tensors';

const DTYPES: Record<string, SourceDtype> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** Headers beyond this are not weight files (the format itself caps them at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Reads a `.safetensors` file (Hugging Face's format: a little-endian u64 header length, a JSON
 * header of dtype/shape/offsets, then the raw data). `file` names it in errors.
 */
export function readSafetensors(bytes: Uint8Array, file: string): SourceTensors {
  if (bytes.byteLength < 8)
    throw new WeightFileError(file, 'too short to be a safetensors file (truncated?)');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
    throw new WeightFileError(file, `not a safetensors file (header length ${headerLength})`);
  }
  if (8 + headerLength > bytes.byteLength) {
    throw new WeightFileError(
      file,
      `truncated: the header needs ${headerLength} bytes, the file has ${bytes.byteLength - 8}`,
    );
  }
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new WeightFileError(file, 'not a safetensors file (its header is not JSON)');
  }
  const data = bytes.subarray(8 + headerLength);
  const tensors: SourceTensors = new Map();
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, entry]) => [name, entry as HeaderEntry] as const)
    .sort((a, b) => (a[1].data_offsets?.[0] ?? 0) - (b[1].data_offsets?.[0] ?? 0));
  for (const [name, entry] of entries) {
    const dtype = DTYPES[entry.dtype];
    if (!dtype)
      throw new WeightFileError(file, `tensor ${name} has dtype ${entry.dtype}, which is not read here`);
    const [begin, end] = entry.data_offsets ?? [];
    const shape = entry.shape;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Number.isInteger(begin) ||
      !Number.isInteger(end)
    ) {
      throw new WeightFileError(file, `tensor ${name} has a malformed header entry`);
    }
    const count = elementCount(shape);
    if ((end as number) - (begin as number) !== count * bytesPerElement(dtype)) {
      throw new WeightFileError(
        file,
        `tensor ${name}: shape [${shape}] of ${entry.dtype} does not fit offsets ${begin}..${end}`,
      );
    }
    if ((end as number) > data.byteLength) {
      throw new WeightFileError(
        file,
        `truncated: tensor ${name} ends at byte ${end} of the data, the file holds ${data.byteLength}`,
      );
    }
    tensors.set(name, { dtype, shape, values: decodeElements(data, begin as number, count, dtype) });
  }
  return tensors;
}
