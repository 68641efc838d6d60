export {
  type ClassInfo,
  type ClassSelection,
  ilsvrc2012Classes,
  minUrlsPerClass,
  parseClassInfo,
  selectClasses,
} from './classes';
export {
  type Cancelled,
  type ErrorKind,
  type Failure,
  ScrapeConfigError,
  type TriedStatus,
  type UrlStatus,
} from './errors';
export { type FetchOptions, type FetchOutcome, fetchImage, parseRetryAfter } from './fetch';
export { HostGate, type HostLimits, localHostLimits } from './limits';
export { type LockHolder, OutputLockedError } from './lock';
export { type ManifestEntry, readManifest } from './manifest';
export { OUTPUT_FORMATS, type OutputFormat, USER_AGENT } from './options';
export { IMAGE_FILE, imageFileName, safeFolderName } from './paths';
export { FLICKR_PLACEHOLDER_DHASH, hammingDistance, perceptualHash } from './phash';
export {
  type ClassReport,
  type ScrapeOptions,
  type ScrapeProgress,
  type ScrapeReport,
  scrape,
} from './scrape';
export { loadUrls, parseUrlSource, type UrlListOptions, type UrlSource } from './sources';
export { type CumulativeStats, type GroupStats, ScrapeStats, type StatsJson } from './stats';
export {
  type ImageFormat,
  type ResizeOptions,
  resizeImage,
  sniffFormat,
  type ValidateOptions,
  type Validation,
  validateImage,
} from './validate';
export {
  shardName,
  WEBDATASET_FORMAT,
  type WebDatasetClass,
  type WebDatasetIndex,
  type WebDatasetSampleJson,
  type WebDatasetShard,
} from './webdataset';
