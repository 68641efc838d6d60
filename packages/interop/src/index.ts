export {
  type ConvertedModel,
  type ConvertOptions,
  convertWeights,
  convertWeightsFile,
  detectWeightFormat,
  WEIGHT_SOURCES,
  type WeightFormat,
  type WeightSource,
} from './convert';
export { UnsafePickleError, WeightFileError } from './errors';
export { type KerasLayerWeights, readKerasWeights } from './formats/keras-h5';
export { readSafetensors } from './formats/safetensors';
export { readTorchFile } from './formats/torch';
export { IMAGENET_CLASS_NAMES, IMAGENET_WNIDS } from './imagenet-classes';
export { kerasArchitecture } from './mapping/keras';
export { torchArchitecture, torchPrefix } from './mapping/torch';
export { OnnxExportError } from './onnx/errors';
export {
  describeOnnx,
  exportOnnx,
  exportOnnxModel,
  type FoldedBatchNorm,
  ONNX_OPSETS,
  type OnnxDescription,
  type OnnxExport,
  type OnnxExportOptions,
  type OnnxValueDescription,
} from './onnx/export';
export type { SourceDtype, SourceTensor, SourceTensors } from './tensors';
