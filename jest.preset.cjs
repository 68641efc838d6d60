// Shared jest settings: TypeScript sources are compiled by SWC, tests live beside the code.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // Generous: CI runs every package's suite at once on 2 cores, and a loaded machine must not fail a test.
  testTimeout: 180_000,
  moduleFileExtensions: ['ts', 'js', 'json', 'cjs', 'mjs'],
};
