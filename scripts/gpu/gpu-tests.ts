// The CUDA backend's kernel self-test as one command, bundled by scripts/gpu/bundle.mjs into
// .gpu-carry/gpu-tests.cjs and run by scripts/gpu-check.sh on the GPU machine:
//
//   node .gpu-carry/gpu-tests.cjs [--scale small|full]     (REQUIRE_GPU=1: a machine without a GPU fails)
//
// Prints deviceInfo() as one JSON line ({"kind":"device",…}), then one JSON line per kernel case
// ({"kind":"kernel",…} with selfTest()'s fields), then {"kind":"summary",…}, then the memory check
// ({"kind":"memory",…}). Exits 1 when a case or the memory check failed, when the addon cannot run,
// or when REQUIRE_GPU=1 and no GPU answered.

// Gradients are registered by tfjs-layers (as in every program that trains); core alone has none.
import '@tensorflow/tfjs-layers';
import {
  type DeviceInfo,
  deviceInfo,
  type KernelCheck,
  memoryUsage,
  selfTest,
  unavailableReason,
} from '@resnet-ts/tfjs-backend-cuda';
import { buildModel, Optimizer, trainStep } from '@resnet-ts/train';
import * as tf from '@tensorflow/tfjs-core';

function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function fail(message: string): number {
  print({ kind: 'summary', passed: false, error: message });
  process.stderr.write(`gpu-tests: ${message}\n`);
  return 1;
}

/**
 * 100 trainer steps of a ResNet-20 (B=128; 4 on the host emulation) after 5 to settle: the
 * tensors, the bytes the allocator holds and its device allocations must not change.
 */
async function memoryCheck(batch: number): Promise<boolean> {
  await tf.setBackend('cuda');
  const net = buildModel({ model: 'resnet20', numClasses: 10, inputSize: [32, 32], seed: 1, options: {} });
  const parameters = net.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable }));
  const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true }, parameters);
  const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, (_, i) => Math.sin(i) * 0.5);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const vars = parameters.map((p) => p.variable);
  const step = () => trainStep(net, optimizer, vars, x, labels, [32, 32], 10, 0, 0.05);
  for (let i = 0; i < 5; i++) step();
  const before = memoryUsage();
  const tensors = tf.memory().numTensors;
  const started = Date.now();
  for (let i = 0; i < 100; i++) step();
  const seconds = (Date.now() - started) / 1000;
  const after = memoryUsage();
  const passed =
    before !== undefined &&
    after !== undefined &&
    tf.memory().numTensors === tensors &&
    after.inUseBytes === before.inUseBytes &&
    after.reservedBytes === before.reservedBytes &&
    after.deviceMallocs === before.deviceMallocs;
  print({ kind: 'memory', steps: 100, batch, seconds, tensors, before, after, passed });
  net.dispose();
  return passed;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--scale');
  const scale = at >= 0 ? argv[at + 1] : 'full';
  if (scale !== 'small' && scale !== 'full') return fail(`--scale ${scale}: expected small or full`);

  const info: DeviceInfo | undefined = deviceInfo();
  if (!info) return fail(`the cuda backend cannot run: ${unavailableReason()}`);
  print({ kind: 'device', ...info });
  if (process.env.REQUIRE_GPU === '1' && info.emulated) {
    return fail('REQUIRE_GPU=1 but the backend runs on the host emulation');
  }

  const started = Date.now();
  let results: KernelCheck[];
  try {
    // Our own product kernels, im2col with them, and cuBLAS (auto, where it loads), at each
    // precision: the CPU reference is computed once per case.
    results = await selfTest({
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
  const memoryOk = await memoryCheck(info.emulated ? 4 : 128);
  return failed.length === 0 && results.length > 0 && memoryOk ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.exitCode = fail(`unexpected: ${error.stack ?? error.message}`);
  },
);
