import {
  type AttributeMessage,
  AttributeType,
  DataType,
  type DimensionMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './schema';

/** One node attribute: `attr.ints('pads', [0, 0, 1, 1])` and so on (ONNX types ints and floats apart). */
export const attr = {
  int: (name: string, value: number): AttributeMessage => ({ name, type: AttributeType.INT, i: value }),
  ints: (name: string, value: readonly number[]): AttributeMessage => ({
    name,
    type: AttributeType.INTS,
    ints: [...value],
  }),
  float: (name: string, value: number): AttributeMessage => ({ name, type: AttributeType.FLOAT, f: value }),
  string: (name: string, value: string): AttributeMessage => ({
    name,
    type: AttributeType.STRING,
    s: new TextEncoder().encode(value),
  }),
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 values as little-endian bytes (ONNX raw_data), always a copy. */
function floatBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN)
    return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return bytes;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setBigInt64(i * 8, BigInt(v), true);
  });
  return bytes;
}

/** A graph's nodes and initializers under construction, with unique value names. */
export class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  /** Value and initializer names; node names are another namespace. */
  private readonly taken = new Set<string>();
  private readonly nodeNames = new Set<string>();

  /** `base`, or `base_1`, `base_2`, … if taken; the name is taken from then on. */
  unique(base: string, taken = this.taken): string {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  }

  /** Adds a node; `outputs` are value names already made unique. Returns the first output. */
  node(
    opType: string,
    inputs: string[],
    outputs: string[],
    attributes: AttributeMessage[] = [],
    name?: string,
  ) {
    this.nodes.push({
      name: this.unique(name ?? outputs[0] ?? opType, this.nodeNames),
      op_type: opType,
      input: inputs,
      output: outputs,
      attribute: attributes,
    });
    return outputs[0] as string;
  }

  /** A float32 initializer named (uniquely) `name`; returns its name. */
  floats(name: string, dims: number[], values: Float32Array | Float64Array): string {
    const unique = this.unique(name);
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.initializers.push({ name: unique, dims, data_type: DataType.FLOAT, raw_data: floatBytes(data) });
    return unique;
  }

  /** An int64 initializer (shapes, pads); returns its name. */
  int64s(name: string, values: readonly number[]): string {
    const unique = this.unique(name);
    this.initializers.push({
      name: unique,
      dims: [values.length],
      data_type: DataType.INT64,
      raw_data: int64Bytes(values),
    });
    return unique;
  }

  /** Renames a value in every node (inputs and outputs). */
  rename(from: string, to: string): void {
    for (const node of this.nodes) {
      node.input = node.input.map((name) => (name === from ? to : name));
      node.output = node.output.map((name) => (name === from ? to : name));
    }
  }
}

/** A float32 tensor's value info; `null` dimensions become the symbolic names given. */
export function tensorInfo(
  name: string,
  shape: readonly (number | string)[],
  docString?: string,
): ValueInfoMessage {
  const dim = shape.map(
    (d): DimensionMessage => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }),
  );
  return {
    name,
    type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim } } },
    ...(docString ? { doc_string: docString } : {}),
  };
}
