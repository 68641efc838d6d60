import type { AugmentStep } from '@resnet-ts/augment';
import { z } from 'zod';
import { parseSchedule, type Schedule } from './schedule';

const positiveInt = z.number().int().positive();

const scheduleSchema = z.union([
  z.string().transform((text, ctx): Schedule => {
    try {
      return parseSchedule(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^schedule: /, '') });
      return z.NEVER;
    }
  }),
  z.object({ name: z.literal('constant') }),
  z.object({
    name: z.literal('piecewise'),
    milestones: z.array(z.number().positive()).min(1),
    factor: z.number().positive().optional(),
    unit: z.enum(['step', 'epoch']).optional(),
  }),
  z.object({ name: z.literal('cosine'), minLr: z.number().nonnegative().optional() }),
  z.object({
    name: z.literal('onecycle'),
    pctStart: z.number().gt(0).lt(1).optional(),
    divFactor: z.number().positive().optional(),
    finalDivFactor: z.number().positive().optional(),
  }),
]);

export const AUGMENT_PRESETS = ['standard', 'flip', 'none'] as const;
export const CONV_LAYOUTS = ['plain', 'blocked', 'timed'] as const;
export type ConvLayout = (typeof CONV_LAYOUTS)[number];
export const NORMALIZATIONS = ['per-pixel-mean', 'imagenet', 'caffe', 'tf', 'none'] as const;
export const BACKENDS = ['auto', 'cuda', 'onednn', 'tensorflow', 'tensorflow-gpu', 'wasm', 'cpu'] as const;
/**
 * Arithmetic of the `cuda` backend's matrix products and convolutions: `fp32` (as on the CPU),
 * `tf32` (fp32 storage, 10-bit-mantissa products on tensor cores) or `bf16`. Other backends: fp32 only.
 */
export const PRECISIONS = ['fp32', 'tf32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Everything a training run is made of; `parseTrainConfig` fills defaults and names bad fields. */
export const trainConfigSchema = z
  .object({
    /** A folder of class folders, a `.tar(.gz)` of them, `cifar10`, or `cifar10:<archive or dir>`. */
    data: z.string().min(1),
    /** Held-out validation data (a folder of class folders); otherwise `valSplit` of `data`. */
    valData: z.string().min(1).optional(),
    model: z
      .string()
      .regex(
        /^(resnet\d+|alexnet)$/,
        'expected resnet<depth> (e.g. resnet20, resnet56, resnet18, resnet50) or alexnet',
      ),
    /** Extra `buildResNet`/`buildAlexNet` options (shortcut, width, preactivation, …). */
    modelOptions: z.record(z.string(), z.unknown()).default({}),
    /** Resize images to size×size: decode-once datasets at prepare time, files on the fly. */
    imageSize: positiveInt.optional(),
    epochs: positiveInt.default(30),
    batchSize: positiveInt.default(128),
    lr: z.number().positive().default(0.1),
    schedule: scheduleSchema.default({ name: 'onecycle' }),
    warmupEpochs: z.number().nonnegative().default(0),
    optimizer: z.enum(['sgd', 'adam', 'adamw']).default('sgd'),
    momentum: z.number().min(0).lt(1).default(0.9),
    nesterov: z.boolean().default(true),
    /** Decoupled (SGDW/AdamW). With momentum 0.9, 5e-3 here ≈ PyTorch's coupled 5e-4. */
    weightDecay: z.number().nonnegative().default(5e-3),
    /** Also decay batch-norm and bias parameters. */
    decayAll: z.boolean().default(false),
    labelSmoothing: z.number().min(0).lt(1).default(0),
    /** MixUp's Beta(α, α) for every training batch (Zhang et al.; 0.2 is common). */
    mixup: z.number().positive().optional(),
    /** CutMix's α (Yun et al.; 1.0 is common). With mixup too, each batch uses one of them. */
    cutmix: z.number().positive().optional(),
    valSplit: z.number().min(0).lt(1).default(0.1),
    /** Use only the first N images of each class (quick experiments, architecture comparisons). */
    maxPerClass: positiveInt.optional(),
    augment: z
      .union([z.enum(AUGMENT_PRESETS), z.object({ steps: z.array(z.custom<AugmentStep>()) })])
      .default('standard'),
    normalization: z.enum(NORMALIZATIONS).optional(),
    seed: z.number().int().default(0),
    workers: z.number().int().nonnegative().default(1),
    prefetch: positiveInt.optional(),
    backend: z.enum(BACKENDS).default('auto'),
    /** oneDNN threads (default: all cores). */
    threads: positiveInt.optional(),
    /**
     * oneDNN convolution layouts: fixed `plain` (the default) or `blocked` compute the same bits in
     * every process, so a killed run resumed elsewhere ends as if never stopped; `timed` picks the
     * faster per shape, which a busy machine can make pick differently from one process to the next.
     */
    convLayout: z.enum(CONV_LAYOUTS).default('plain'),
    /**
     * `cuda` matrix products and convolutions: `fp32` (the default: full single precision, as on the
     * CPU backends), or the faster `tf32` / `bf16`. Only `fp32` exists on the other backends.
     */
    precision: z.enum(PRECISIONS).default('fp32'),
    /** Log a JSONL/TensorBoard line every this many steps. */
    logEvery: positiveInt.default(50),
    /** Stop after this many epochs without a better validation top-1. */
    earlyStopping: positiveInt.optional(),
    /** Where decoded datasets are cached between runs. */
    cacheDir: z.string().optional(),
    /** Misclassified validation images shown in the report. */
    reportImages: z.number().int().nonnegative().default(48),
  })
  .strict();

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** Thrown for a bad configuration; the message names the field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates and fills defaults; the error names each bad field and what was expected. */
export function parseTrainConfig(input: unknown): TrainConfig {
  const result = trainConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`,
  );
  throw new ConfigError(problems.join('; '));
}
