import type { AugmentStep } from '@resnet-ts/augment';
import { BACKENDS, CONV_LAYOUTS, type ConvLayout, PRECISIONS, type Precision } from '@resnet-ts/backends';
import { z } from 'zod';
import { parseSchedule, type Schedule } from './schedule';

const positiveInt = z.number().int().positive();

const scheduleSchema = z.union(
  [
    z.string().transform((text, ctx): Schedule => {
      try {
        return parseSchedule(text);
      } catch (error) {
        // `continue` keeps this the one branch of the union that applies to a string, so its
        // message is the one reported (not zod's "Invalid input").
        ctx.addIssue({
          code: 'custom',
          message: (error as Error).message.replace(/^schedule: /, ''),
          continue: true,
        });
        return z.NEVER;
      }
    }),
    z.discriminatedUnion('name', [
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
    ]),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `must be a schedule name (constant, cosine, onecycle, piecewise:<m1>,<m2>[@epoch|@step]) or {"name": …} (got ${show(issue.input)})`
        : undefined,
  },
);

export const AUGMENT_PRESETS = ['standard', 'flip', 'none'] as const;
export const NORMALIZATIONS = ['per-pixel-mean', 'imagenet', 'caffe', 'tf', 'none'] as const;
// The backend, precision and layout names are @resnet-ts/backends' (defined there only).
export { BACKENDS, CONV_LAYOUTS, type ConvLayout, PRECISIONS, type Precision };
/**
 * How much of a pretrained network `freeze` keeps fixed: the stem (`conv1_*`, `pool1_*`), or the stem
 * and stages 1 to K (resnet-core's `conv2_*` … `conv{K+1}_*` layers). CIFAR ResNets have 3 stages.
 */
export const FREEZE_POINTS = ['stem', 'stage1', 'stage2', 'stage3', 'stage4'] as const;
export type FreezePoint = (typeof FREEZE_POINTS)[number];

/** Everything a training run is made of; `parseTrainConfig` fills defaults and names bad fields. */
export const trainConfigSchema = z
  .object({
    /** A folder of class folders, a `.tar(.gz)` of them, WebDataset shards, `cifar10`, or `cifar10:<archive or dir>`. */
    data: z.string().min(1),
    /** Held-out validation data (a folder of class folders); otherwise `valSplit` of `data`. */
    valData: z.string().min(1).optional(),
    /** `resnet<depth>` or `alexnet`; with `pretrained`, optional (the pretrained model's), else required. */
    model: z
      .string()
      .regex(/^(resnet\d+|alexnet)$/, {
        error: (issue) =>
          `must be resnet<depth> (e.g. resnet20, resnet56, resnet18, resnet50) or alexnet (got ${JSON.stringify(issue.input)})`,
      })
      .optional(),
    /** Extra `buildResNet`/`buildAlexNet` options (shortcut, width, preactivation, …). */
    modelOptions: z.record(z.string(), z.unknown()).default({}),
    /**
     * Fine-tuning: start from the weights of this exported model directory or run directory. Its
     * architecture, normalisation and input size become the run's (unless given); every weight
     * but the classifier head (`predictions`, made anew for the data's classes) is taken as it is.
     */
    pretrained: z.string().min(1).optional(),
    /**
     * SHA-256 (hex) of the pretrained weights, recorded by the trainer for provenance; when given
     * for a new run, the pretrained weights must be these.
     */
    pretrainedSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: (issue) => `must be 64 hex digits (got ${show(issue.input)})` })
      .optional(),
    /**
     * Keep the pretrained layers up to and including this part fixed: no gradient updates, no weight
     * decay, and their batch norms in inference mode (moving statistics used, not updated).
     */
    freeze: z.enum(FREEZE_POINTS).optional(),
    /** The classifier head's learning rate is this many times the schedule's (0 keeps it at init). */
    headLrMult: z.number().nonnegative().default(1),
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
    /**
     * Use at most N images of each class, chosen by `seed` (the same N and seed choose the same
     * images), before the validation split: a smoke run of a recipe on a big dataset.
     */
    limitPerClass: positiveInt.optional(),
    /**
     * Stop after this many optimizer steps in all (0: no limit), saving the checkpoint and the final
     * model as at the end of a run. The schedule still spans `epochs`, so the steps done are the
     * first steps of the full run, and a resume with a larger limit (or 0) continues it.
     */
    maxSteps: z.number().int().nonnegative().optional(),
    augment: z
      .union([
        z.enum(AUGMENT_PRESETS, {
          error: (issue) =>
            `must be one of ${AUGMENT_PRESETS.join(', ')} or a pipeline {"steps": […]} (got ${JSON.stringify(issue.input)})`,
        }),
        z.object({ steps: z.array(z.custom<AugmentStep>()) }),
      ])
      .default('standard'),
    normalization: z.enum(NORMALIZATIONS).optional(),
    seed: z.number().int().default(0),
    workers: z.number().int().nonnegative().default(1),
    prefetch: positiveInt.optional(),
    /**
     * The backend the run asks for. The application activates it before `train` (`useBackend` of
     * @resnet-ts/backends), which checks that it is the active one; `auto` trains on whichever is
     * active, except the pure-JS `cpu` backend, which trains only when named.
     */
    backend: z.enum(BACKENDS).default('auto'),
    /** Threads, on a backend with that setting (oneDNN; default: all cores). */
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

/** One bad field of a run config. */
export interface ConfigIssue {
  /** The field's path in the config: `lr`, `schedule.milestones`; empty for the config as a whole. */
  path: string;
  /** What is wrong, as words that follow the field's name: `is required`, `must be one of a, b`. */
  message: string;
  /**
   * Other fields the message names, each written `{path}` in it, so that a front end names them
   * its own way too (`freeze: needs {pretrained}` → `--freeze needs --pretrained`).
   */
  mentions?: readonly string[];
}

const formatIssues = (
  issues: readonly ConfigIssue[],
  name: (path: string) => string,
  mention: (path: string) => string,
) =>
  issues
    .map((issue) => {
      const message = (issue.mentions ?? []).reduce(
        (text, other) => text.split(`{${other}}`).join(mention(other)),
        issue.message,
      );
      return `${name(issue.path)}${issue.path ? ' ' : ''}${message}`;
    })
    .join('; ');

/** The text around a {@link ConfigError}'s issues; `name` names any field it mentions. */
export type ConfigErrorFrame = (problems: string, name: (path: string) => string) => string;

const fieldName = (path: string) => (path ? `${path}:` : '');

/**
 * Thrown for a bad configuration; the message names the field (`lr: must be greater than 0 (got
 * -0.1)`). `issues` lists the bad fields, so that a front end can name them its own way (the CLI
 * names the flag that sets each one, see {@link ConfigError.describe}); it is empty for errors
 * about no one field.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  private readonly frame: ConfigErrorFrame;

  constructor(message: string | readonly ConfigIssue[], frame: ConfigErrorFrame = (problems) => problems) {
    const issues = typeof message === 'string' ? [] : [...message];
    const plain = (path: string) => path;
    super(typeof message === 'string' ? message : frame(formatIssues(issues, fieldName, plain), plain));
    this.issues = issues;
    this.frame = frame;
  }

  /**
   * The message with each bad field called `name(path)` (its path: `lr`, `schedule.name`, or `''`
   * for the config as a whole) instead of `path:`, and other fields it mentions `mention(path)`.
   */
  describe(name: (path: string) => string, mention: (path: string) => string = name): string {
    return this.issues.length === 0
      ? this.message
      : this.frame(formatIssues(this.issues, name, mention), mention);
  }
}

/** A value as the user wrote it (JSON), cut short. */
function show(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

const TYPE_NAMES: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  record: 'a JSON object',
  object: 'a JSON object',
  array: 'a list',
};

/** zod's issues in words that follow the field's name (`must be greater than 0 (got -1)`). */
const describeIssue: z.core.$ZodErrorMap = (issue) => {
  const got = issue.input === undefined ? '' : ` (got ${show(issue.input)})`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}${got}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `must hold at least ${issue.minimum} item(s)`;
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}${got}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}${got}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${show(issue.values[0])}${got}`
        : `must be one of ${issue.values.map(String).join(', ')}${got}`;
    case 'invalid_union':
      // A discriminated union's unknown tag (a schedule's `name`).
      if ('discriminator' in issue && 'options' in issue && Array.isArray(issue.options)) {
        const tag = (issue.input as Record<string, unknown> | undefined)?.[String(issue.discriminator)];
        return `must be one of ${issue.options.map(String).join(', ')}${tag === undefined ? '' : ` (got ${show(tag)})`}`;
      }
      return undefined;
    default:
      return undefined;
  }
};

/**
 * zod's issues as {@link ConfigIssue}s. A union that fails names what went wrong inside the one
 * branch that fits the value's type (the object form of a schedule, say), where only one does.
 */
function configIssues(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    const at = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...at, key].join('.'),
        message: 'is not a run config field',
      }));
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Branches of another type than the value's first, then those that only reject its value.
      const rejects = (branch: z.core.$ZodIssue[], codes: string[]) =>
        branch.length === 1 && branch[0]?.path.length === 0 && codes.includes(branch[0].code);
      let fitting = issue.errors.filter((branch) => !rejects(branch, ['invalid_type']));
      if (fitting.length > 1) fitting = fitting.filter((branch) => !rejects(branch, ['invalid_value']));
      if (fitting.length === 1) return configIssues(fitting[0] as z.core.$ZodIssue[], at);
    }
    const message = issue.message === 'Invalid input' ? 'is not valid' : issue.message;
    return [{ path: at.map(String).join('.'), message }];
  });
}

/** Rules between fields, checked on the input as given so that they are reported with the others. */
function crossFieldIssues(input: unknown): ConfigIssue[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
  const given = input as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  if (given.model === undefined && given.pretrained === undefined) {
    issues.push({ path: 'model', message: 'is required' });
  }
  if (given.freeze !== undefined && given.pretrained === undefined) {
    issues.push({
      path: 'freeze',
      message:
        'needs {pretrained} weights to start from (frozen layers would keep their random initialisation)',
      mentions: ['pretrained'],
    });
  }
  return issues;
}

/** Config fields in the order the schema lists them; issues are reported in this order. */
const FIELD_ORDER = Object.keys(trainConfigSchema.shape);
const fieldRank = (issue: ConfigIssue) => {
  const rank = FIELD_ORDER.indexOf(issue.path.split('.')[0] ?? '');
  return rank < 0 ? FIELD_ORDER.length : rank;
};

/** Validates and fills defaults; the error names each bad field and what was expected. */
export function parseTrainConfig(input: unknown): TrainConfig {
  const result = trainConfigSchema.safeParse(input, { error: describeIssue });
  const cross = crossFieldIssues(input);
  if (result.success && cross.length === 0) return result.data;
  const issues = [...(result.success ? [] : configIssues(result.error.issues)), ...cross];
  // Array.prototype.sort is stable: unknown fields stay last, in the order given.
  throw new ConfigError(issues.sort((a, b) => fieldRank(a) - fieldRank(b)));
}
