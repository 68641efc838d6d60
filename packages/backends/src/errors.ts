/** A backend that cannot be loaded or configured as asked; the message says why and what to do. */
export class BackendError extends Error {
  override name = 'BackendError';
}

/** `auto` found no backend faster than the pure-JS cpu one, and was told not to take that. */
export class NoFastBackendError extends BackendError {
  override name = 'NoFastBackendError';
  constructor(
    /** Why each faster backend did not load (one message per backend, as `useBackend` reports them). */
    readonly skipped: string[],
  ) {
    super(`no fast backend loaded: ${fastBackendFixes(skipped).join('; ')}`.replace(/\.*$/, ''));
  }
}

/**
 * Of the reasons faster backends did not load, those a user can act on here: oneDNN's (the fast CPU
 * path, on any machine), and CUDA's unless there is simply no GPU. The libtensorflow bindings are
 * not the fix (they download at install and are slower than oneDNN), so they are left out.
 */
export function fastBackendFixes(skipped: string[]): string[] {
  const fixes = skipped.filter(
    (reason) =>
      reason.startsWith('backend onednn:') ||
      (reason.startsWith('backend cuda:') && !/no usable CUDA GPU|not installed/.test(reason)),
  );
  return fixes.length > 0 ? fixes : skipped;
}
