import { useBackend } from '@resnet-ts/backends';

/**
 * Activates the backend training tests run on, as an application would before `train()` (which
 * runs on the active backend and never chooses one): the native oneDNN backend when its addon is
 * built (always under CI=true, where a missing addon is a failure); elsewhere the pure-JS cpu one,
 * slower but equally correct. Tests name the result as the run's `backend`, so that cpu trains.
 */
export async function testBackend(): Promise<'onednn' | 'cpu'> {
  try {
    await useBackend('onednn');
    return 'onednn';
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    await useBackend('cpu');
    return 'cpu';
  }
}
