import { readFileSync } from 'node:fs';
import { packageConfig } from '../../tsup.shared';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// An executable, not a library: one ESM entry with a shebang, no type declarations.
export default packageConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
  external: [/^@tensorflow\//, /^@resnet-ts\//, 'commander', 'cli-progress'],
  define: { __RESNET_CLI_VERSION__: JSON.stringify(version) },
});
