import { type BackendChoice, NoFastBackendError, slowBackendNotice, useBackend } from '@resnet-ts/backends';
import { refuseCpuTraining, type TrainConfig } from '@resnet-ts/train';
import type { Io } from './io';

/**
 * The backend of an inference command (eval, predict). `auto` may end on the pure-JS cpu backend
 * here (a few predictions still finish), and then says so in one line with what would be faster.
 */
export async function useInferenceBackend(choice: string, io: Io): Promise<string> {
  const { backend, skipped } = await useBackend(choice as BackendChoice);
  const notice = slowBackendNotice(backend, skipped);
  if (notice) io.stderr(`warning: ${notice}\n`);
  return backend;
}

/**
 * The backend of a training run, activated before `train()` (which runs on the active backend): the
 * one the run's config names (`--backend`, or a resumed run's own). `auto` never ends on the pure-JS
 * cpu backend here: training there takes days, so the error says what is missing, how to fix it and
 * what cpu would cost, and cpu trains only when named.
 */
export async function useTrainingBackend(
  config: TrainConfig,
): Promise<{ backend: string; skipped: string[] }> {
  try {
    return await useBackend(config.backend, { allowSlowCpu: false });
  } catch (error) {
    if (!(error instanceof NoFastBackendError)) throw error;
    throw await refuseCpuTraining(config, error);
  }
}
