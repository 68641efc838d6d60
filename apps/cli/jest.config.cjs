const { version } = require('./package.json');

// The version the build bakes in (tsup's `define`), so `resnet --version` works under jest too.
module.exports = { ...require('../../jest.preset.cjs'), globals: { __RESNET_CLI_VERSION__: version } };
