import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend';

/**
 * Training tests run on the native backend when its addon is built (always under CI=true, where a
 * missing addon is a failure); elsewhere on pure JS, which is slower but equally correct.
 */
export async function testBackend(): Promise<'onednn' | 'cpu'> {
  try {
    await useBackend('onednn');
    return 'onednn';
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    await tf.setBackend('cpu');
    return 'cpu';
  }
}
