import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BackendStatus, loadOptional, probeBackends } from '@resnet-ts/backends';
import { defaultCacheDir } from '@resnet-ts/train';
import type { Io } from '../io';
import { CLI_VERSION } from '../version';

/** What `resnet doctor` found: every field a line of its report. */
export interface DoctorReport {
  resnet: string;
  node: { version: string; supported: boolean; required: string };
  platform: string;
  cpu: { model: string; cores: number };
  backends: BackendStatus[];
  /** What `resnet train --backend auto` would train on; undefined: none, it would stop. */
  trainsOn?: string;
  onednn?: { version?: string; threads?: number };
  cudaToolkit: { nvcc?: string; version?: string; searched: string[] };
  gpu?: { name: string; computeCapability: string; memoryGiB: number; driver: string; cublas: string };
  cacheDir: string;
  /** Commands that would fix what is missing, most useful first. */
  hints: string[];
}

/** The oldest Node every package's `engines` accepts (undici 7 needs 20.18.1). */
const REQUIRED_NODE = [20, 18, 1];

interface OneDnnModule {
  oneDnnVersion?: () => string | undefined;
  getThreads?: () => number | undefined;
}
interface CudaModule {
  deviceInfo?: () =>
    | { name: string; computeCapability: string; memoryBytes: number; driverVersion: string; cublas: string }
    | undefined;
}

/** nvcc where the cuda backend's build looks for it: CUDA_HOME, CUDA_PATH, /usr/local/cuda. */
function findCudaToolkit(): DoctorReport['cudaToolkit'] {
  const roots = [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda'].filter(
    (root): root is string => Boolean(root),
  );
  for (const root of roots) {
    const nvcc = path.join(root, 'bin', 'nvcc');
    if (!existsSync(nvcc)) continue;
    let version: string | undefined;
    try {
      version = /release ([\d.]+)/.exec(execFileSync(nvcc, ['--version'], { encoding: 'utf8' }))?.[1];
    } catch {
      version = undefined;
    }
    return { nvcc, version, searched: roots };
  }
  return { searched: roots };
}

/** Looks at this machine as the commands would use it; changes nothing. */
export async function diagnose(): Promise<DoctorReport> {
  const backends = await probeBackends();
  const byName = new Map(backends.map((b) => [b.name, b]));
  const trainsOn = backends.find((b) => b.available && b.trains)?.name;
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number);
  const [needMajor, needMinor, needPatch] = REQUIRED_NODE as [number, number, number];
  const supported =
    major !== needMajor ? major > needMajor : minor !== needMinor ? minor > needMinor : patch >= needPatch;
  const report: DoctorReport = {
    resnet: CLI_VERSION,
    node: { version: process.versions.node, supported, required: `>=${REQUIRED_NODE.join('.')}` },
    platform: `${process.platform}-${process.arch}`,
    cpu: { model: os.cpus()[0]?.model.trim() ?? 'unknown', cores: os.availableParallelism() },
    backends,
    trainsOn,
    cudaToolkit: findCudaToolkit(),
    cacheDir: defaultCacheDir(),
    hints: [],
  };
  if (byName.get('onednn')?.available) {
    const onednn = (await loadOptional('@resnet-ts/tfjs-backend-onednn')) as OneDnnModule;
    report.onednn = { version: onednn.oneDnnVersion?.(), threads: onednn.getThreads?.() };
  }
  if (byName.get('cuda')?.available) {
    const info = ((await loadOptional('@resnet-ts/tfjs-backend-cuda')) as CudaModule).deviceInfo?.();
    if (info)
      report.gpu = {
        name: info.name,
        computeCapability: info.computeCapability,
        memoryGiB: info.memoryBytes / 2 ** 30,
        driver: info.driverVersion,
        cublas: info.cublas,
      };
  }
  if (!report.node.supported)
    report.hints.push(
      `Node ${process.versions.node} is too old: install Node ${REQUIRED_NODE.join('.')} or newer (nvm install 20, or https://nodejs.org)`,
    );
  if (!byName.get('onednn')?.available) {
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    report.hints.push(
      `fast CPU training: ${sudo}apt-get install -y libdnnl-dev && npm rebuild @resnet-ts/tfjs-backend-onednn`,
    );
  }
  const cuda = byName.get('cuda');
  if (!cuda?.available && report.cudaToolkit.nvcc && !/no usable CUDA GPU/.test(cuda?.reason ?? ''))
    report.hints.push('GPU training: npm rebuild @resnet-ts/tfjs-backend-cuda (the CUDA toolkit is here)');
  return report;
}

const mark = (ok: boolean) => (ok ? 'ok  ' : 'no  ');

/** The report as a person reads it: one line per finding, the fixes last. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = [
    `resnet ${report.resnet} on Node ${report.node.version} (${report.node.supported ? 'supported' : `needs ${report.node.required}`}), ${report.platform}, ${report.cpu.cores} cores (${report.cpu.model})`,
    '',
    'backends (fastest first):',
  ];
  for (const backend of report.backends) {
    const note = backend.available
      ? backend.name === 'cpu'
        ? 'pure JavaScript: fine for a few predictions, far too slow to train (train takes it only when named)'
        : backend.name === 'wasm'
          ? 'inference only'
          : 'ready'
      : backend.reason;
    lines.push(`  ${mark(backend.available)}${backend.name.padEnd(15)}${note}`);
  }
  lines.push(
    '',
    report.trainsOn
      ? `resnet train --backend auto trains on: ${report.trainsOn}`
      : 'resnet train --backend auto: no fast backend, it would stop (or choose --backend cpu)',
  );
  if (report.onednn)
    lines.push(
      `oneDNN ${report.onednn.version ?? '?'}, ${report.onednn.threads ?? '?'} threads (--threads or OMP_NUM_THREADS to change)`,
    );
  const toolkit = report.cudaToolkit;
  lines.push(
    toolkit.nvcc
      ? `CUDA toolkit: ${toolkit.nvcc} (release ${toolkit.version ?? '?'})`
      : `CUDA toolkit: not found (looked in ${toolkit.searched.join(', ')}): only needed to build the cuda backend`,
  );
  lines.push(
    report.gpu
      ? `GPU: ${report.gpu.name} (compute ${report.gpu.computeCapability}, ${report.gpu.memoryGiB.toFixed(1)} GiB, driver CUDA ${report.gpu.driver}); cuBLAS: ${report.gpu.cublas}`
      : 'GPU: none usable (the cuda line above says why)',
  );
  lines.push(`data cache: ${report.cacheDir}${existsSync(report.cacheDir) ? '' : ' (not created yet)'}`);
  if (report.hints.length > 0) lines.push('', 'to fix:', ...report.hints.map((hint) => `  ${hint}`));
  return `${lines.join('\n')}\n`;
}

export async function runDoctor(flags: { json?: boolean }, io: Io): Promise<number> {
  const report = await diagnose();
  io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
  return 0;
}
