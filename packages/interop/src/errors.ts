/**
 * A weight file that cannot be read or does not fit the model: the message names the file and what
 * is wrong, in one line, and nothing has been written when it is thrown.
 */
export class WeightFileError extends Error {
  override readonly name: string = 'WeightFileError';
  constructor(
    /** The file (or `what` was being read) the problem is in. */
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** A pickle that asks to import or call something other than the tensor-rebuilding functions. */
export class UnsafePickleError extends WeightFileError {
  override readonly name = 'UnsafePickleError';
}
