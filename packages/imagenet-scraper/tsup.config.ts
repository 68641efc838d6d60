import { packageConfig } from '../../tsup.shared';

// Shims give the ESM build `__dirname`, used to find the class table shipped in data/.
export default packageConfig({ shims: true, external: ['sharp', 'undici'] });
