import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { backend_util, DataId } from '@tensorflow/tfjs-core';
import { markEscaped, release } from './buffer-pool';
import { releaseDataVersion } from './data';
import { requireAddon } from './native';

/**
 * The tfjs CPU backend with oneDNN kernels: same data store (plain Float32Arrays), so every CPU
 * kernel keeps working and the native kernels read and write its arrays without copies.
 */
export class OneDnnBackend extends MathBackendCPU {
  constructor() {
    super();
    requireAddon(); // fail at backend creation, with the install hint, rather than at the first conv
    // The cpu backend's first write prints "install tfjs-node to speed things up": not for us.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  // Values handed to user code must never be recycled.
  override readSync(dataId: DataId): backend_util.BackendValues {
    markEscaped(this.data.get(dataId)?.values);
    return super.readSync(dataId);
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const released = super.disposeData(dataId, force);
    if (released && !this.data.has(dataId)) {
      release(values);
      // Reordered copies of convolution weights made from this data (see dataVersion).
      const version = releaseDataVersion(dataId as object);
      if (version !== undefined) requireAddon().forgetWeights(version);
    }
    return released;
  }
}
