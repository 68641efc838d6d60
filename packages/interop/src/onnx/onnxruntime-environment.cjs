// Jest environment for tests that run onnxruntime-node: jest gives each test file its own realm, so
// the typed arrays onnxruntime's native code returns (this realm's) fail onnxruntime-common's
// `instanceof Float32Array` checks there (jest shares only ArrayBuffer and Uint8Array). This shares
// the other typed arrays too; tests opt in with a `@jest-environment` docblock.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
