import { CONV_LAYOUTS } from '@resnet-ts/backends';
import { BINARY_OPS, FUSED_ACTIVATIONS, loadAddon, type OpCodes, REDUCE_OPS, UNARY_OPS } from './native';
import { describeNative } from './testing';

// The JS side names the addon's ops; the codes are the C++ enums', exported as `opCodes`.
describeNative("the addon's op codes", () => {
  const names: Record<keyof OpCodes, readonly string[]> = {
    binary: BINARY_OPS,
    unary: UNARY_OPS,
    reduce: REDUCE_OPS,
    activation: FUSED_ACTIVATIONS,
    convLayout: CONV_LAYOUTS,
  };

  it.each(Object.entries(names))(
    '%s: the same names on both sides, each with its own code',
    (table, expected) => {
      const codes = loadAddon()!.opCodes[table as keyof OpCodes] as Record<string, number>;
      expect(Object.keys(codes).sort()).toEqual([...expected].sort());
      const values = Object.values(codes);
      expect(new Set(values).size).toBe(values.length);
      expect(values.every((code) => Number.isInteger(code) && code >= 0)).toBe(true);
    },
  );

  it('refuses a code no op has, naming the function', () => {
    const addon = loadAddon()!;
    const x = new Float32Array(4);
    expect(() => addon.unary(99, x, new Float32Array(4), 0)).toThrow(/unary: unknown op/);
  });
});
