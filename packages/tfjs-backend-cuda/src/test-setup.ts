import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered by tfjs-layers (or the tfjs union package); core alone has none.
import '@tensorflow/tfjs-layers';

// Silences the cpu backend's "install tfjs-node" banner.
tf.env().set('IS_TEST', true);

// Device tests run on a GPU where there is one; elsewhere on the host emulation of the same
// kernels (RESNET_CUDA_EMULATE=1), which tests everything but the GPU code paths themselves.
if (process.env.RESNET_CUDA_EMULATE === undefined) {
  const device = join(__dirname, '..', 'build', 'Release', 'tfjs_cuda.node');
  let gpu = false;
  if (existsSync(device)) {
    const init = (require(device) as { init(): { deviceCount: number; error: string } }).init();
    gpu = init.deviceCount > 0 && !init.error;
  }
  if (!gpu) process.env.RESNET_CUDA_EMULATE = '1';
}
