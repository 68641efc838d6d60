// Test helpers: run the `resnet` command in-process and capture what it prints.
import type { Io } from './io';
import { run } from './program';

/** An Io that captures stdout and stderr (not a terminal; Ctrl-C never fires). */
export function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
    terminal: process.stderr,
    onInterrupt: () => () => undefined,
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

/** Runs `resnet <argv…>`: its exit code and what it printed. */
export async function resnet(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const t = captureIo();
  const code = await run(argv, t.io);
  return { code, out: t.out(), err: t.err() };
}
