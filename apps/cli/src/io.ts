/** Where a command writes; tests pass buffers, the binary passes the process streams. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** A terminal gets progress bars; anything else gets plain lines. */
  isTTY: boolean;
  /** Where progress bars draw when `isTTY` (the terminal behind stderr). */
  terminal: NodeJS.WritableStream;
  /** Registers a handler for Ctrl-C; returns an unregister function. */
  onInterrupt: (handler: () => void) => () => void;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: process.stderr.isTTY === true,
  terminal: process.stderr,
  // Ctrl-C, or a service manager's stop (SIGTERM): both stop a command cleanly.
  onInterrupt: (handler) => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
};

/** A failure the user caused: printed as one line, exit code 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}
