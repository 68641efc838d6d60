import { defineConfig, type Options } from 'tsup';

/** Every published package: ESM + CJS + types from src/index.ts; TensorFlow.js stays external. */
export function packageConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    external: [/^@tensorflow\//],
    ...overrides,
  });
}
