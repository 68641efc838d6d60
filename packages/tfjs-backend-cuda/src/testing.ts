import { deviceInit } from './native';

/** Whether tests run on a real GPU (not the host emulation). */
export function onGpu(): boolean {
  const init = deviceInit();
  return init !== undefined && !init.emulated;
}

/** Why GPU-only tests are skipped here; REQUIRE_GPU=1 turns the skip into a failure. */
export function gpuSkipReason(): string | undefined {
  if (onGpu()) return undefined;
  return 'no CUDA GPU here (tests ran on the host emulation)';
}
