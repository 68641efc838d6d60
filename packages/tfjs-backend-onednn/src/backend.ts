import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { requireAddon } from './native';

/**
 * The tfjs CPU backend with oneDNN kernels: same data store (plain Float32Arrays), so every CPU
 * kernel keeps working and the native kernels read and write its arrays without copies.
 */
export class OneDnnBackend extends MathBackendCPU {
  constructor() {
    super();
    requireAddon(); // fail at backend creation, with the install hint, rather than at the first conv
  }
}
