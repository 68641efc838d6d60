// Backend selection and set-up are @resnet-ts/backends' (train runs on the active backend); these
// re-exports keep the earlier imports from @resnet-ts/train working.
export {
  applyPrecision,
  type BackendChoice,
  BackendError,
  type BackendStatus,
  loadOptional,
  NoFastBackendError,
  probeBackends,
  slowBackendNotice,
  type UseBackendOptions,
  useBackend,
} from '@resnet-ts/backends';
export {
  type AssembledBatch,
  BatchAssembler,
  type BatchMix,
  type BatchSource,
  type BatchTask,
  type Preprocessing,
} from './assemble';
export {
  describeMachine,
  measureThroughput,
  type ThroughputOptions,
  type ThroughputResult,
} from './benchmark';
export { type ChartOptions, lineChart, type Series } from './chart';
export type { EpochRecord, SplitMetrics, TrainState } from './checkpoint';
export {
  AUGMENT_PRESETS,
  BACKENDS,
  CONV_LAYOUTS,
  ConfigError,
  type ConfigErrorFrame,
  type ConfigIssue,
  type ConvLayout,
  FREEZE_POINTS,
  type FreezePoint,
  NORMALIZATIONS,
  PRECISIONS,
  type Precision,
  parseTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
  trainConfigSchema,
} from './config';
export {
  type CpuCostConfig,
  type CpuTrainingCost,
  estimateCpuTraining,
  measureCpuConvRate,
  refuseCpuTraining,
} from './cpu-cost';
export { type ArchiveEntry, readTarArchive } from './data/archive';
export {
  CIFAR10_CLASSES,
  type Cifar10,
  type DownloadOptions,
  downloadCifar10,
  parseCifarBatches,
  readCifar10,
} from './data/cifar';
export {
  classCounts,
  type DatasetBase,
  DatasetError,
  type FileDataset,
  firstPerClass,
  type ImageDataset,
  type MemoryDataset,
  subset,
} from './data/dataset';
export { IMAGE_EXTENSIONS, scanImageFolder } from './data/folder';
export { defaultCacheDir, type OpenedData, type OpenOptions, openDataset } from './data/open';
export { type PrepareOptions, prepareImages } from './data/prepare';
export { epochOrder, permutation, type Split, stratifiedSplit } from './data/split';
export {
  crossEntropySum,
  type EvaluationResult,
  evaluate,
  inferScores,
  type ScoreKind,
  type TestTimeAugmentation,
} from './evaluate';
export { exportModel, loadModel, type ModelBundle } from './export';
export { writeDirAtomic, writeFileAtomic } from './files';
export {
  type EvalSplit,
  type EvaluateModelOptions,
  evaluateModel,
  type ModelEvaluation,
  type Prediction,
  predictImages,
} from './inference';
export { BatchLoader, type LoaderOptions, toBatches } from './loader';
export { ClassificationMetrics } from './metrics';
export { fileSystem, type SaveModelOptions, saveModel } from './model-io';
export { buildModel, type ModelRequest, modelDefaults } from './models';
export { type NumberRule, numberParser, parseNumber } from './numbers';
export { Optimizer, type OptimizerConfig, type OptimizerState, type Parameter } from './optim';
export { resolvePreprocessing, standardPreprocessing } from './preprocess';
export {
  type Architecture,
  describeStart,
  inferArchitecture,
  loadPretrained,
  type PretrainedModel,
  type StartDescription,
} from './pretrained';
export { type ReportInput, type ReportRun, writeReport } from './report';
export { learningRate, parseSchedule, type Schedule, type ScheduleContext } from './schedule';
export { trainStep } from './step';
export { crc32c, readScalarEvents, TensorBoardWriter } from './tensorboard';
export {
  RUNTIME_FIELDS,
  resolveRunConfig,
  runFiles,
  type TrainEvent,
  type TrainOptions,
  type TrainResult,
  train,
} from './trainer';
