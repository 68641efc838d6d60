import { packageConfig } from '../../tsup.shared';

// __dirname / __filename locate the addon in both module formats.
export default packageConfig({ shims: true });
