import { ConfigError, parseTrainConfig, type TrainConfig, type TrainConfigInput } from '../config';
import { readJson } from '../files';
import type { RunFiles } from './files';

/**
 * Fields that may change when a run is resumed; everything else must stay as it was. `data` and
 * `valData` say where the data is (it may have moved with the run); resume checks that the classes
 * and the validation split they give are the run's own.
 */
export const RUNTIME_FIELDS = [
  'data',
  'valData',
  'epochs',
  'workers',
  'prefetch',
  'backend',
  'threads',
  'convLayout',
  'precision',
  'logEvery',
  'cacheDir',
  'earlyStopping',
  'reportImages',
  'maxSteps',
] as const;

/** The config of a resumed run: the saved one, with only runtime fields taken from `input`. */
export async function resumedConfig(
  files: RunFiles,
  input: Partial<TrainConfigInput> | undefined,
): Promise<TrainConfig> {
  const saved = parseTrainConfig(await readJson(files.config));
  if (!input) return saved;
  const given = parseTrainConfig({ ...saved, ...input });
  const changed = (Object.keys(input) as (keyof TrainConfig)[]).filter(
    (key) =>
      !(RUNTIME_FIELDS as readonly string[]).includes(key) &&
      JSON.stringify(given[key]) !== JSON.stringify(saved[key]),
  );
  if (changed.length > 0) {
    throw new ConfigError(
      changed.map((key) => ({
        path: key,
        message: `must stay ${saved[key] === undefined ? 'unset' : JSON.stringify(saved[key])} in a resumed run`,
      })),
      (problems, name) =>
        `${problems} (a resumed run may change only ${RUNTIME_FIELDS.map(name).join(', ')})`,
    );
  }
  return given;
}

/** A new run's config; under `resume` (nothing to resume yet) a bad one says that it would start anew. */
export function newRunConfig(
  input: Partial<TrainConfigInput> | undefined,
  outDir: string,
  resume: boolean,
): TrainConfig {
  try {
    return parseTrainConfig(input);
  } catch (error) {
    if (!resume || !(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.issues,
      (problems) =>
        `${outDir}: no checkpoint to resume, and a new run there needs a complete config (${problems})`,
    );
  }
}
