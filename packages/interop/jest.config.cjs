const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, setupFiles: ['<rootDir>/src/test-setup.ts'] };
