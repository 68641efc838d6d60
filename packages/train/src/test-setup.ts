// IS_TEST is deliberately left off: its kernel leak check misfires on tfjs's own customGrad ops
// (softmaxCrossEntropy reports "1 data ids" on the stock cpu backend too).
import '@tensorflow/tfjs-backend-cpu';
