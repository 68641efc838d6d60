import { packageConfig } from '../../tsup.shared';

// An executable: one ESM entry with a shebang, no type declarations.
export default packageConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  dts: false,
  shims: true,
  banner: { js: '#!/usr/bin/env node' },
  external: [/^@tensorflow\//, /^@resnet-ts\//, 'commander'],
});
