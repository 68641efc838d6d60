import os from 'node:os';
import { activeCapabilities } from '@resnet-ts/backends';
import { countFlops, countParams } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import { buildModel, modelDefaults } from './models';
import { Optimizer } from './optim';
import { trainStep } from './step';

export interface ThroughputOptions {
  /** `resnet<depth>` or `alexnet`. */
  model: string;
  batch?: number;
  size?: number;
  classes?: number;
  /** Timed steps (median reported) after `warmup` untimed ones. */
  steps?: number;
  warmup?: number;
  modelOptions?: Record<string, unknown>;
}

/** One measurement, with the fields of ../shared/peers/pytorch_bench.py plus our own. */
export interface ThroughputResult {
  peer: 'resnet-ts';
  backend: string;
  model: string;
  shortcut: string;
  batch: number;
  size: number;
  classes: number;
  threads: number;
  params: number;
  flops: number;
  train_img_s: number;
  infer_img_s: number;
  train_step_s: number;
  infer_step_s: number;
  /** The process's peak resident memory so far, MiB. */
  peak_rss_mb: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function seeded(length: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2147483648 - 1;
  });
}

/** The threads the active backend computes with: what it says, or all cores where it cannot say. */
async function threadsOf(): Promise<number> {
  return (await activeCapabilities()).getThreads?.() ?? os.availableParallelism();
}

/**
 * Training and inference images/s of a model on the active backend: the same step as `train` (SGD
 * with Nesterov momentum, softmax cross-entropy), median over `steps` after `warmup`.
 */
export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const defaults = modelDefaults(options.model, options.modelOptions);
  const batch = options.batch ?? defaults.batch;
  const size = options.size ?? defaults.size;
  const classes = options.classes ?? defaults.classes;
  const steps = options.steps ?? 6;
  const warmup = options.warmup ?? 2;
  const model = buildModel({
    model: options.model,
    numClasses: classes,
    inputSize: [size, size],
    seed: 1,
    options: options.modelOptions,
  });
  const parameters = model.trainableWeights.map((w) => ({
    name: w.originalName,
    variable: w.read() as tf.Variable,
  }));
  const optimizer = new Optimizer(
    { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-3 },
    parameters,
  );
  const vars = parameters.map((p) => p.variable);
  const x = seeded(batch * size * size * 3, 1);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % classes);
  try {
    const time = (fn: () => void) => {
      const times: number[] = [];
      for (let i = 0; i < warmup + steps; i++) {
        const start = performance.now();
        fn();
        if (i >= warmup) times.push((performance.now() - start) / 1000);
      }
      return median(times);
    };
    const trainSeconds = time(() =>
      trainStep(model, optimizer, vars, x, labels, [size, size], classes, 0, 0.01),
    );
    const input = tf.tensor4d(x, [batch, size, size, 3]);
    const inferSeconds = time(() => {
      tf.tidy(() => (model.apply(input, { training: false }) as tf.Tensor).dataSync());
    });
    input.dispose();
    const backend = tf.getBackend();
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      peer: 'resnet-ts',
      backend,
      model: options.model,
      shortcut: String(options.modelOptions?.shortcut ?? defaults.shortcut),
      batch,
      size,
      classes,
      threads: await threadsOf(),
      params: countParams(model).total,
      flops: countFlops(model),
      train_img_s: round(batch / trainSeconds),
      infer_img_s: round(batch / inferSeconds),
      train_step_s: Math.round(trainSeconds * 1e4) / 1e4,
      infer_step_s: Math.round(inferSeconds * 1e4) / 1e4,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** What a benchmark ran on, stored beside its results. */
export async function describeMachine(): Promise<Record<string, string | number>> {
  const cpus = os.cpus();
  const backend = tf.getBackend();
  // The active backend's own account of itself: its device (a GPU), precision, library versions.
  const capabilities = await activeCapabilities();
  const device = capabilities.device?.();
  const precision = capabilities.getPrecision?.();
  return {
    ...(device
      ? {
          gpu: device.name,
          ...(device.computeCapability ? { compute_capability: device.computeCapability } : {}),
          ...(device.memoryBytes ? { gpu_memory_gib: Math.round(device.memoryBytes / 2 ** 30) } : {}),
          ...(device.driverVersion ? { cuda_driver: device.driverVersion } : {}),
          ...(device.runtimeVersion ? { cuda_runtime: device.runtimeVersion } : {}),
        }
      : {}),
    ...(precision ? { precision } : {}),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    threads: await threadsOf(),
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version_core,
    backend,
    ...capabilities.versions?.(),
  };
}
