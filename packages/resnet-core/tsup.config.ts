import { packageConfig } from '../../tsup.shared';

// kernel-names: the kernel-name contract, importable by backends without loading tfjs-layers.
export default packageConfig({ entry: ['src/index.ts', 'src/kernel-names.ts'] });
