import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered by tfjs-layers (or the tfjs union package); core alone has none.
import '@tensorflow/tfjs-layers';

// Silences the cpu backend's "install tfjs-node" banner.
tf.env().set('IS_TEST', true);
