// The CUDA backend's kernel self-test as one command, bundled by scripts/gpu/bundle.mjs into
// .gpu-carry/gpu-tests.cjs and run by scripts/gpu-check.sh on the GPU machine:
//
//   node .gpu-carry/gpu-tests.cjs [--scale small|full]     (REQUIRE_GPU=1: a machine without a GPU fails)
//
// Prints deviceInfo() as one JSON line ({"kind":"device",…}), then one JSON line per kernel case
// ({"kind":"kernel",…} with selfTest()'s fields), then {"kind":"summary",…}. Exits 1 when a case
// failed, when the package or its addon cannot load, or when REQUIRE_GPU=1 and no GPU answered.

// Gradients are registered by tfjs-layers (as in every program that trains); core alone has none.
import '@tensorflow/tfjs-layers';

interface SelfTestResult {
  kernel: string;
  case: string;
  maxAbsError: number;
  maxRelError: number;
  tolerance: number;
  passed: boolean;
  precision?: string;
  engine?: string;
}

interface CudaPackage {
  selfTest?: (options?: {
    scale?: 'small' | 'full';
    configs?: { precision: 'fp32' | 'tf32' | 'bf16'; engine: 'auto' | 'own' | 'cublas' | 'im2col' }[];
  }) => Promise<SelfTestResult[]>;
  deviceInfo?: () => unknown;
  unavailableReason?: () => string | undefined;
  missing?: string;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function fail(message: string): number {
  print({ kind: 'summary', passed: false, error: message });
  process.stderr.write(`gpu-tests: ${message}\n`);
  return 1;
}

/** True when deviceInfo() describes host emulation or no device rather than a real GPU. */
function looksEmulated(info: unknown): boolean {
  if (info === null || typeof info !== 'object') return true;
  const fields = info as Record<string, unknown>;
  if (fields.emulated === true || fields.emulation === true) return true;
  const count = fields.deviceCount ?? fields.devices;
  return typeof count === 'number' && count < 1;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // Read at run time on the GPU machine; no turbo task depends on them.
  const { env } = process;
  const at = argv.indexOf('--scale');
  const scale = (at >= 0 ? argv[at + 1] : (env.GPU_TESTS_SCALE ?? 'full')) as 'small' | 'full';
  if (scale !== 'small' && scale !== 'full') return fail(`--scale ${scale}: expected small or full`);
  const requireGpu = env.REQUIRE_GPU === '1';

  let cuda: CudaPackage;
  try {
    cuda = (await import('@resnet-ts/tfjs-backend-cuda')) as CudaPackage;
  } catch (error) {
    return fail(`@resnet-ts/tfjs-backend-cuda failed to load: ${(error as Error).message}`);
  }
  if (cuda.missing) return fail(cuda.missing);
  if (typeof cuda.selfTest !== 'function') {
    return fail(
      '@resnet-ts/tfjs-backend-cuda exports no selfTest(); this bundle predates it or the API changed',
    );
  }

  let info: unknown;
  try {
    info = typeof cuda.deviceInfo === 'function' ? await cuda.deviceInfo() : undefined;
    print({ kind: 'device', ...(info && typeof info === 'object' ? info : { info }) });
  } catch (error) {
    const reason = cuda.unavailableReason?.();
    return fail(`deviceInfo() failed: ${(error as Error).message}${reason ? ` (${reason})` : ''}`);
  }
  if (requireGpu && looksEmulated(info)) return fail('REQUIRE_GPU=1 but deviceInfo() reports no real GPU');

  const started = Date.now();
  let results: SelfTestResult[];
  try {
    // Our own product kernels and cuBLAS (auto, where it loads), at each precision: the CPU
    // reference is computed once per case.
    results = await cuda.selfTest({
      scale,
      configs: [
        { precision: 'fp32', engine: 'own' },
        { precision: 'fp32', engine: 'im2col' },
        { precision: 'fp32', engine: 'auto' },
        { precision: 'tf32', engine: 'own' },
        { precision: 'tf32', engine: 'auto' },
        { precision: 'bf16', engine: 'auto' },
      ],
    });
  } catch (error) {
    return fail(`selfTest({ scale: '${scale}' }) threw: ${(error as Error).stack ?? error}`);
  }
  for (const r of results) print({ kind: 'kernel', ...r });
  const failed = results.filter((r) => !r.passed);
  print({
    kind: 'summary',
    scale,
    cases: results.length,
    failed: failed.length,
    failedCases: failed.map((r) => `${r.kernel}/${r.case} (${r.precision}, ${r.engine})`),
    seconds: (Date.now() - started) / 1000,
    passed: failed.length === 0 && results.length > 0,
  });
  if (results.length === 0) process.stderr.write('gpu-tests: selfTest() returned no cases\n');
  const memoryOk = await memoryCheck(looksEmulated(info) ? 4 : 128);
  return failed.length === 0 && results.length > 0 && memoryOk ? 0 : 1;
}

/**
 * 100 trainer steps of a ResNet-20 (B=128; 4 on the host emulation) on the GPU after 5 to settle: the tensors, the bytes the
 * allocator holds and its device allocations must not change (printed as {"kind":"memory",…}).
 */
async function memoryCheck(batch: number): Promise<boolean> {
  const tf = await import('@tensorflow/tfjs-core');
  const { buildModel, Optimizer, trainStep } = await import('@resnet-ts/train');
  const cuda = await import('@resnet-ts/tfjs-backend-cuda');
  await tf.setBackend('cuda');
  const net = buildModel({ model: 'resnet20', numClasses: 10, inputSize: [32, 32], seed: 1, options: {} });
  const parameters = net.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as never }));
  const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true }, parameters);
  const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, (_, i) => Math.sin(i) * 0.5);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const vars = parameters.map((p) => p.variable);
  const step = () => trainStep(net, optimizer, vars, x, labels, [32, 32], 10, 0, 0.05);
  for (let i = 0; i < 5; i++) step();
  const before = cuda.memoryUsage();
  const tensors = tf.memory().numTensors;
  const started = Date.now();
  for (let i = 0; i < 100; i++) step();
  const seconds = (Date.now() - started) / 1000;
  const after = cuda.memoryUsage();
  const passed =
    before !== undefined &&
    after !== undefined &&
    tf.memory().numTensors === tensors &&
    after.inUseBytes === before.inUseBytes &&
    after.reservedBytes === before.reservedBytes &&
    after.deviceMallocs === before.deviceMallocs;
  print({ kind: 'memory', steps: 100, seconds, tensors, before, after, passed });
  net.dispose();
  return passed;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.exitCode = fail(`unexpected: ${error.stack ?? error.message}`);
  },
);
