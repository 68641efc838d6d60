import { unzipSync } from 'fflate';
import { WeightFileError } from '../errors';
import {
  bytesPerElement,
  decodeElements,
  elementCount,
  type SourceDtype,
  type SourceTensors,
} from '../tensors';
import { isGlobal, type PickleGlobal, type PickleValue, unpickle } from './pickle';

const STORAGE_DTYPES: Record<string, SourceDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** What `torch.load(weights_only=True)` also allows, less what a state dict never holds. */
const ALLOWED = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(STORAGE_DTYPES).map((name) => `torch.${name}`),
]);

interface StorageRef {
  kind: 'object';
  value: { storage: true; dtype: SourceDtype; key: string };
}
interface TensorRef {
  kind: 'object';
  value: { tensor: true; storage: StorageRef['value']; offset: number; size: number[]; stride: number[] };
}

const isObject = (value: PickleValue | undefined): value is { kind: 'object'; value: unknown } =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  (value as { kind?: string }).kind === 'object';
const isTensor = (value: PickleValue | undefined): value is TensorRef =>
  isObject(value) && (value.value as { tensor?: boolean }).tensor === true;

const ints = (value: PickleValue | undefined): number[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v))
    ? (value as number[])
    : undefined;

/** The keys under which training checkpoints commonly keep the model's state dict. */
const STATE_DICT_KEYS = ['state_dict', 'model', 'model_state_dict', 'module', 'net'];

/**
 * Reads a PyTorch `.pth`/`.pt` file written by `torch.save` (a zip of `data.pkl` and one file per
 * storage): the state dict's tensors by name. The pickle is read by a restricted unpickler that
 * only rebuilds tensors and dicts; anything else (a pickled model, a global that runs code) is
 * refused with the global's name. A checkpoint that wraps the state dict (`state_dict`, `model`, …)
 * is unwrapped; `module.` prefixes (DataParallel) are dropped.
 */
export function readTorchFile(bytes: Uint8Array, file: string): SourceTensors {
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    if (bytes[0] === 0x80 && bytes.byteLength > 2) {
      throw new WeightFileError(
        file,
        'a PyTorch file in the legacy (pre-1.6) format, which is not read here; re-save it with torch.save(state_dict, path) from PyTorch >= 1.6, or as .safetensors',
      );
    }
    throw new WeightFileError(file, 'not a PyTorch file (torch.save writes a zip archive; this is not one)');
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new WeightFileError(file, `the zip archive is damaged or truncated (${(error as Error).message})`);
  }
  const names = Object.keys(entries);
  const pickleName = names.find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName) {
    const torchScript = names.some((name) => /^[^/]+\/(constants\.pkl|code\/)/.test(name));
    throw new WeightFileError(
      file,
      torchScript
        ? 'a TorchScript archive (torch.jit.save); save the state dict instead: torch.save(model.state_dict(), path)'
        : 'a zip archive without data.pkl, so not written by torch.save',
    );
  }
  const root = pickleName.slice(0, -'data.pkl'.length);
  const byteorder = entries[`${root}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw new WeightFileError(file, 'saved on a big-endian machine, which is not read here');
  }
  const storages = new Map<string, StorageRef['value']>();
  const value = unpickle(entries[pickleName] as Uint8Array, file, {
    allowed: ALLOWED,
    persistentLoad(pid) {
      // ('storage', storage_type, key, location, numel)
      if (!Array.isArray(pid) || pid[0] !== 'storage' || !isGlobal(pid[1]) || typeof pid[2] !== 'string') {
        throw new WeightFileError(file, 'the pickle refers to data that is not a tensor storage');
      }
      const dtype = STORAGE_DTYPES[(pid[1] as PickleGlobal).name] as SourceDtype;
      const key = pid[2];
      const storage = storages.get(key) ?? { storage: true as const, dtype, key };
      storages.set(key, storage);
      return { kind: 'object', value: storage };
    },
    call(callable, args) {
      switch (callable.name) {
        case 'OrderedDict':
          return new Map();
        case '_rebuild_tensor_v2': {
          const [storage, offset, size, stride] = args;
          const shape = ints(size);
          const strides = ints(stride);
          if (
            !isObject(storage) ||
            typeof offset !== 'number' ||
            !shape ||
            !strides ||
            shape.length !== strides.length
          ) {
            throw new WeightFileError(file, 'the pickle rebuilds a tensor from malformed arguments');
          }
          return {
            kind: 'object',
            value: { tensor: true, storage: storage.value, offset, size: shape, stride: strides },
          };
        }
        case '_rebuild_parameter':
        case '_rebuild_parameter_with_state':
          return args[0] as PickleValue;
        default:
          throw new WeightFileError(
            file,
            `the pickle calls ${callable.module}.${callable.name} in a way not read here`,
          );
      }
    },
  });
  const stateDict = findStateDict(value, file);
  const tensors: SourceTensors = new Map();
  for (const [key, tensor] of stateDict) {
    const name = key.startsWith('module.') ? key.slice('module.'.length) : key;
    tensors.set(name, materialise(tensor, entries, root, file, name));
  }
  return tensors;
}

function findStateDict(value: PickleValue, file: string): Map<string, TensorRef> {
  const isStateDict = (v: PickleValue | undefined): v is Map<PickleValue, PickleValue> =>
    v instanceof Map && v.size > 0 && [...v].every(([k, t]) => typeof k === 'string' && isTensor(t));
  if (isStateDict(value)) return value as unknown as Map<string, TensorRef>;
  if (value instanceof Map) {
    for (const key of STATE_DICT_KEYS) {
      const inner = value.get(key);
      if (isStateDict(inner)) return inner as unknown as Map<string, TensorRef>;
    }
    const keys = [...value.keys()].map(String).slice(0, 8).join(', ');
    throw new WeightFileError(
      file,
      `holds a dict (${keys}) but no state dict of tensors under ${STATE_DICT_KEYS.join(', ')}`,
    );
  }
  throw new WeightFileError(file, 'holds no state dict (a dict of tensors by name)');
}

function materialise(
  tensor: TensorRef,
  entries: Record<string, Uint8Array>,
  root: string,
  file: string,
  name: string,
): { dtype: SourceDtype; shape: number[]; values: Float32Array } {
  const { storage, offset, size, stride } = tensor.value;
  const data = entries[`${root}data/${storage.key}`];
  if (!data)
    throw new WeightFileError(
      file,
      `tensor ${name}: its storage data/${storage.key} is missing from the archive`,
    );
  const itemBytes = bytesPerElement(storage.dtype);
  const count = elementCount(size);
  // The last element the view reaches, to check the storage holds it.
  const reach =
    count === 0 ? 0 : offset + size.reduce((sum, d, i) => sum + (d - 1) * (stride[i] as number), 0) + 1;
  if (reach * itemBytes > data.byteLength) {
    throw new WeightFileError(
      file,
      `tensor ${name}: its storage holds ${data.byteLength} bytes, the tensor needs ${reach * itemBytes} (truncated?)`,
    );
  }
  const contiguous = size.every((_, i) => stride[i] === size.slice(i + 1).reduce((a, b) => a * b, 1));
  if (contiguous)
    return {
      dtype: storage.dtype,
      shape: size,
      values: decodeElements(data, offset * itemBytes, count, storage.dtype),
    };
  // A strided view (a transposed or sliced tensor): gather it row-major.
  const all = decodeElements(data, 0, reach, storage.dtype);
  const values = new Float32Array(count);
  const index = new Array<number>(size.length).fill(0);
  for (let n = 0; n < count; n++) {
    let at = offset;
    for (let d = 0; d < size.length; d++) at += (index[d] as number) * (stride[d] as number);
    values[n] = all[at] as number;
    for (let d = size.length - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (size[d] as number)) break;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape: size, values };
}
