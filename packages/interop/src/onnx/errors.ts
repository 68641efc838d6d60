/**
 * A model that cannot be written as ONNX: a layer without a conversion (the message names the layer
 * and its class), a layer setting the conversion does not cover, or a bad export option. Nothing has
 * been produced when it is thrown.
 */
export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';
  constructor(
    message: string,
    /** The layer that could not be converted, when a layer is the cause. */
    readonly layer?: string,
    /** That layer's class name (`getClassName()`), e.g. `DepthwiseConv2D`. */
    readonly className?: string,
  ) {
    super(message);
  }
}
