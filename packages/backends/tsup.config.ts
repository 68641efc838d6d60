import { packageConfig } from '../../tsup.shared';

// The backend packages are loaded by name at run time (`loadOptional`), never bundled.
export default packageConfig({ external: [/^@tensorflow\//, /^@resnet-ts\//] });
