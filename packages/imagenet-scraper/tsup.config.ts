import { packageConfig } from '../../tsup.shared';

// Shims give the ESM build `__dirname`, used to find the class table shipped in data/.
// queue: the Redis/BullMQ entry point, so that a single-machine scrape never loads BullMQ.
export default packageConfig({
  entry: { index: 'src/index.ts', queue: 'src/queue/index.ts' },
  shims: true,
  external: ['sharp', 'undici', 'bullmq', 'ioredis'],
});
