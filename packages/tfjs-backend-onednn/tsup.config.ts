import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // __dirname / __filename locate the addon in both module formats.
  shims: true,
  external: [/^@tensorflow\//],
});
