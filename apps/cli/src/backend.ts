import { type BackendChoice, slowBackendNotice, useBackend } from '@resnet-ts/train';
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
