import { packageConfig } from '../../tsup.shared';

export default packageConfig({ external: [/^@tensorflow\//, 'h5wasm', 'fflate', 'protobufjs'] });
