import { exec, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Precision, ThroughputResult } from '@resnet-ts/train';

const execFileAsync = promisify(execFile);
const execAsync = promisify(exec);

export interface MeasureRequest {
  model: string;
  batch?: number;
  size?: number;
  steps: number;
  warmup: number;
  backend: string;
  precision: Precision;
  threads?: number;
  /** Shortcut option of CIFAR ResNets (A, B or C). */
  shortcut?: string;
}

/** The built CLI (beside this module in dist, or in dist when run from src by jest). */
function cliFile(): string {
  for (const candidate of [path.join(__dirname, 'cli.js'), path.join(__dirname, '..', 'dist', 'cli.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('resnet-bench is not built; run npm run build');
}

function lastJsonLine(output: string, what: string): Record<string, unknown> {
  const line = output
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`${what} printed no JSON line`);
  return JSON.parse(line) as Record<string, unknown>;
}

/**
 * Measures one model in a fresh process, so peak memory and primitive caches belong to that model
 * alone, exactly as a user's process would see them.
 */
export async function measureIsolated(request: MeasureRequest): Promise<ThroughputResult> {
  const args = [
    cliFile(),
    'measure',
    '--model',
    request.model,
    '--steps',
    String(request.steps),
    '--warmup',
    String(request.warmup),
    '--backend',
    request.backend,
    '--precision',
    request.precision,
  ];
  if (request.batch) args.push('--batch', String(request.batch));
  if (request.size) args.push('--size', String(request.size));
  if (request.threads) args.push('--threads', String(request.threads));
  if (request.shortcut) args.push('--shortcut', request.shortcut);
  try {
    const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: 16 << 20 });
    return lastJsonLine(stdout, `measuring ${request.model}`) as unknown as ThroughputResult;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').pop();
    throw new Error(`measuring ${request.model} failed: ${stderr || (error as Error).message}`);
  }
}

export interface PeerResult {
  peer: string;
  train_img_s: number;
  infer_img_s: number;
  [field: string]: unknown;
}

/** Runs a peer benchmark command (pytorch_bench.py's interface) on the same model and shapes. */
export async function runPeer(
  command: string,
  ours: ThroughputResult,
  steps: number,
  warmup: number,
): Promise<PeerResult> {
  const common = `--model ${ours.model} --batch ${ours.batch} --size ${ours.size} --threads ${ours.threads} --steps ${steps} --warmup ${warmup}`;
  const run = async (full: string) => {
    const { stdout } = await execAsync(full, { maxBuffer: 16 << 20 });
    const result = lastJsonLine(stdout, full) as PeerResult;
    if (typeof result.train_img_s !== 'number' || typeof result.infer_img_s !== 'number') {
      throw new Error(`${full} printed no train_img_s/infer_img_s`);
    }
    return result;
  };
  try {
    try {
      return await run(`${command} ${common} --shortcut ${ours.shortcut}`);
    } catch (error) {
      // Keras's peer has no --shortcut option (it builds projection shortcuts only).
      if (!/unrecognized arguments: --shortcut/.test(String((error as { stderr?: string }).stderr)))
        throw error;
      return await run(`${command} ${common}`);
    }
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').pop();
    throw new Error(`peer failed on ${ours.model}: ${stderr || (error as Error).message}`);
  }
}
