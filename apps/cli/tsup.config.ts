import { packageConfig } from '../../tsup.shared';

// An executable, not a library: one ESM entry with a shebang, no type declarations.
export default packageConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
  external: [/^@tensorflow\//, /^@resnet-ts\//, 'commander', 'cli-progress'],
});
