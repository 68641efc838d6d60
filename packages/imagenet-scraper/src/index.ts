export {
  type ClassInfo,
  type ClassSelection,
  ilsvrc2012Classes,
  parseClassInfo,
  ScrapeConfigError,
  selectClasses,
} from './classes';
export { type ErrorKind, type FetchOptions, type FetchOutcome, fetchImage, parseRetryAfter } from './fetch';
export { type ManifestEntry, readManifest } from './manifest';
export { IMAGE_FILE, imageFileName, safeFolderName } from './paths';
export {
  type ClassReport,
  type ScrapeOptions,
  type ScrapeProgress,
  type ScrapeReport,
  scrape,
  USER_AGENT,
} from './scrape';
export { loadUrls, parseUrlSource, type UrlSource } from './sources';
export { type GroupStats, ScrapeStats } from './stats';
export {
  type ImageFormat,
  type ResizeOptions,
  resizeImage,
  sniffFormat,
  type ValidateOptions,
  type Validation,
  validateImage,
} from './validate';
