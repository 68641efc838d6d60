// Stands for `sharp` in the GPU bundles (scripts/gpu/bundle.mjs): the real module when it resolves
// from the bundle's folder (.gpu-carry/node_modules, unpacked by scripts/gpu-check.sh), otherwise a
// stand-in that lets every command load and says why when an image has to be decoded. CIFAR-10
// binary data and the benchmarks never decode an image.
let sharp;
try {
  sharp = require('sharp');
} catch (error) {
  const reason =
    `sharp is not available beside this bundle (${error.message.split('\n')[0]}); ` +
    'bundle with `node scripts/gpu/bundle.mjs --sharp` (gpu-check.sh unpacks it), or use CIFAR-10 binary data';
  const missing = () => {
    throw new Error(reason);
  };
  // Any method (sharp.cache(), sharp.format…) throws the same sentence; interop probes stay undefined.
  const probes = new Set(['__esModule', 'then', 'default']);
  sharp = new Proxy(missing, {
    get: (target, key) => {
      if (typeof key === 'symbol' || probes.has(key)) return undefined;
      return key in target ? target[key] : missing;
    },
  });
}
module.exports = sharp;
