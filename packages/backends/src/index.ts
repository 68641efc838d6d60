export {
  activeCapabilities,
  applyPrecision,
  type BackendCapabilities,
  type BackendDevice,
  type BackendSettings,
  type ConfigureOptions,
  configureBackend,
} from './capabilities';
export { BackendError, NoFastBackendError } from './errors';
export {
  BACKENDS,
  type BackendChoice,
  CONV_LAYOUTS,
  type ConvLayout,
  type NamedBackend,
  PRECISIONS,
  type Precision,
} from './names';
export { AUTO_ORDER, BACKEND_PLUGINS, type BackendPlugin, backendName, loadOptional } from './plugins';
export {
  type BackendStatus,
  probeBackends,
  probeFastBackend,
  slowBackendNotice,
  type UseBackendOptions,
  useBackend,
} from './select';
