import { packageConfig } from '../../tsup.shared';

// The batch worker is its own entry: worker threads load it by path. Shims give ESM `__dirname`.
export default packageConfig({
  entry: ['src/index.ts', 'src/batch-worker.ts'],
  shims: true,
  external: ['sharp', /^@tensorflow\//, /^@resnet-ts\//],
});
