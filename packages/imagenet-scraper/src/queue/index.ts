/**
 * `@resnet-ts/imagenet-scraper/queue`: one scrape spread over many workers through Redis
 * (BullMQ). A separate entry point, so that a single-machine scrape never loads BullMQ.
 */
export {
  DEFAULT_QUEUE_NAME,
  type QueueAddress,
  QueueError,
} from './connection';
export { type QueueScrapeOptions, scrapeWithQueue } from './coordinator';
export { redisHostLimits } from './hosts';
export type { ClassProgress } from './run';
export { type QueueStatus, queueStatus } from './status';
export { runWorker, type WorkerEvent, type WorkerOptions, type WorkerReport } from './worker';
