import * as tf from '@tensorflow/tfjs-core';
import {
  getMatmulEngine,
  getPrecision,
  type MatmulEngine,
  type Precision,
  setMatmulEngine,
  setPrecision,
} from './precision';
import { BACKEND_NAME } from './register';

/** One comparison of a kernel (forward, or one gradient) on the GPU against the tfjs CPU backend. */
export interface KernelCheck {
  kernel: string;
  case: string;
  /** Largest |gpu − cpu| over the elements. */
  maxAbsError: number;
  /** ‖gpu − cpu‖₂ / ‖cpu‖₂ (NaN or infinity when the two disagree on non-finite values). */
  maxRelError: number;
  tolerance: number;
  passed: boolean;
  /** Milliseconds the GPU side took (first call included), and the CPU reference. */
  ms: number;
  cpuMs: number;
  precision: Precision;
  /** The product engine in force (auto: cuBLAS where it loaded). */
  engine: MatmulEngine;
  error?: string;
}

export interface SelfTestOptions {
  /** `small`: shapes that run in seconds on the host emulation; `full`: ResNet and AlexNet sizes. */
  scale?: 'small' | 'full';
  /** Precision the GPU side runs in; tolerances follow it. Default: the current precision. */
  precision?: Precision;
  /**
   * Several precisions and product engines in one run (the CPU reference is computed once per
   * case); overrides `precision`.
   */
  configs?: { precision: Precision; engine: MatmulEngine }[];
  /** Only cases whose `kernel` or `case` matches. */
  filter?: RegExp;
  seed?: number;
}

type Op = (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

interface Case {
  kernel: string;
  name: string;
  shapes: number[][];
  /** Inputs that are int32 class indices below this bound, by position. */
  ints?: Record<number, number>;
  /** Positive inputs (variances), by position. */
  positive?: number[];
  op: Op;
  /** The CPU reference when it differs from `op` (custom kernels the CPU backend lacks). */
  reference?: Op;
  /** Gradients with respect to these inputs (of Σ w·output for a fixed random w). */
  grads?: number[];
  /** Relative tolerance at fp32; scaled for tf32/bf16 where products are involved. */
  tolerance?: number;
  products?: boolean;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const conv = (stride: number, pad: 'same' | 'valid') => (x: tf.Tensor, w: tf.Tensor) =>
  tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad);

function batchNormComposite(relu: boolean): Op {
  return (x, scale, offset) => {
    const axes = x!.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x!, axes);
    const y = tf.batchNorm(x!, mean, variance, offset, scale, 1e-3);
    return [relu ? tf.relu(y) : y, mean, variance];
  };
}

function batchNormKernel(relu: boolean): Op {
  return (x, scale, offset) =>
    tf
      .engine()
      .runKernel(
        relu ? 'ResNetBatchNormReluTraining' : 'ResNetBatchNormTraining',
        { x: x!, scale: scale!, offset: offset! },
        { varianceEpsilon: 1e-3 },
      ) as tf.Tensor[];
}

/** dx, dScale, dOffset of Σ dy·y through the composite, and through the gradient kernel. */
function batchNormGradReference(relu: boolean): Op {
  return (x, scale, offset, dy) => {
    const f = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const y = (batchNormComposite(relu)(a, s, o) as tf.Tensor[])[0]!;
      return tf.sum(tf.mul(y, dy!));
    };
    return tf.grads(f)([x!, scale!, offset!]);
  };
}

function batchNormGradKernel(relu: boolean): Op {
  return (x, scale, offset, dy) => {
    const [, mean, variance] = batchNormKernel(relu)(x!, scale!, offset!) as tf.Tensor[];
    const inputs: tf.NamedTensorMap = { dy: dy!, x: x!, scale: scale!, mean: mean!, variance: variance! };
    if (relu) inputs.offset = offset!;
    return tf
      .engine()
      .runKernel(relu ? 'ResNetBatchNormReluTrainingGrad' : 'ResNetBatchNormTrainingGrad', inputs, {
        varianceEpsilon: 1e-3,
      }) as tf.Tensor[];
  };
}

function sgdChain(p: tf.Tensor, g: tf.Tensor, v: tf.Tensor): tf.Tensor[] {
  const momentum = 0.9;
  const velocity = tf.add(tf.mul(v, momentum), g);
  const step = tf.add(g, tf.mul(velocity, momentum));
  return [tf.sub(tf.mul(p, 1 - 0.1 * 5e-4), tf.mul(step, 0.1)), velocity];
}

// Full-scale shapes keep the pure-JS CPU reference to about a minute in all (its convolution
// gradients run at a few million multiply-adds a second: a batch of eight 224x224 stems alone took
// 190 s), while the GPU still meets every ResNet case: the 7x7/2 stem on an odd image, 11x11/4,
// batch 1 and batch 256, 512 input channels.
function cases(full: boolean): Case[] {
  const b = 2;
  const big = full ? 256 : 4;
  const bigSize = full ? 4 : 32;
  const list: Case[] = [
    // Convolutions of the ResNets and AlexNet: forward, then dx and dW through the two backprop kernels.
    {
      kernel: 'Conv2D',
      name: '3x3/1 same, 16→16, 32x32',
      shapes: [
        [b, 32, 32, 16],
        [3, 3, 16, 16],
      ],
      op: conv(1, 'same'),
      grads: [0, 1],
      products: true,
    },
    {
      kernel: 'Conv2D',
      name: '3x3/2 same, 16→32, odd 33x33',
      shapes: [
        [b, 33, 33, 16],
        [3, 3, 16, 32],
      ],
      op: conv(2, 'same'),
      grads: [0, 1],
      products: true,
    },
    {
      // 8,192 output pixels and one output tile: the filter gradient's sum is split over blocks.
      kernel: 'Conv2D',
      name: '3x3/1 same, 8x32x32x4 → 4 (split sums)',
      shapes: [
        [8, 32, 32, 4],
        [3, 3, 4, 4],
      ],
      op: conv(1, 'same'),
      grads: [0, 1],
      products: true,
    },
    {
      kernel: 'Conv2D',
      name: '1x1/2 projection, 32→64',
      shapes: [
        [b, 16, 16, 32],
        [1, 1, 32, 64],
      ],
      op: conv(2, 'valid'),
      grads: [0, 1],
      products: true,
    },
    {
      kernel: 'Conv2D',
      name: '1x1/1 pointwise, 64→256',
      shapes: [
        [b, 8, 8, 64],
        [1, 1, 64, 256],
      ],
      op: conv(1, 'valid'),
      grads: [0, 1],
      products: true,
    },
    {
      kernel: 'Conv2D',
      name: `3x3/1 same, batch ${big}`,
      shapes: [
        [big, bigSize, bigSize, full ? 8 : 16],
        [3, 3, full ? 8 : 16, full ? 8 : 16],
      ],
      op: conv(1, 'same'),
      grads: [0, 1],
      products: true,
    },
    {
      kernel: 'Conv2D',
      name: `3x3/1 same, batch 1, 7x7x${full ? 512 : 32} → ${full ? 16 : 32}`,
      shapes: [
        [1, 7, 7, full ? 512 : 32],
        [3, 3, full ? 512 : 32, full ? 16 : 32],
      ],
      op: conv(1, 'same'),
      grads: [0, 1],
      products: true,
    },
    full
      ? {
          kernel: 'Conv2D',
          name: '7x7/2 stem, odd 115x115, 3→8',
          shapes: [
            [1, 115, 115, 3],
            [7, 7, 3, 8],
          ],
          op: conv(2, 'same'),
          grads: [0, 1],
          products: true,
        }
      : {
          kernel: 'Conv2D',
          name: '7x7/2 stem, odd 37x37',
          shapes: [
            [b, 37, 37, 3],
            [7, 7, 3, 8],
          ],
          op: conv(2, 'same'),
          grads: [0, 1],
          products: true,
        },
    full
      ? {
          kernel: 'Conv2D',
          name: '11x11/4 valid (AlexNet), 131x131, 3→8',
          shapes: [
            [1, 131, 131, 3],
            [11, 11, 3, 8],
          ],
          op: conv(4, 'valid'),
          grads: [0, 1],
          products: true,
        }
      : {
          kernel: 'Conv2D',
          name: '11x11/4 valid, 35x35',
          shapes: [
            [b, 35, 35, 3],
            [11, 11, 3, 8],
          ],
          op: conv(4, 'valid'),
          grads: [0, 1],
          products: true,
        },
    {
      kernel: 'FusedConv2D',
      name: '3x3/1 same + bias + relu',
      shapes: [[b, 16, 16, 8], [3, 3, 8, 16], [16]],
      op: (x, w, bias) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias,
          activation: 'relu',
        }),
      grads: [0, 1, 2],
      products: true,
    },
    // Products.
    {
      kernel: 'BatchMatMul',
      name: 'dense 64x576 · 576x10',
      shapes: [
        [64, 576],
        [576, 10],
      ],
      op: (a, w) => tf.matMul(a!, w!),
      grads: [0, 1],
      products: true,
    },
    {
      kernel: 'BatchMatMul',
      name: 'batched, transposed',
      shapes: [
        [3, 40, 17],
        [3, 23, 40],
      ],
      op: (a, w) => tf.matMul(a!, w!, true, true),
      grads: [0, 1],
      products: true,
    },
    {
      kernel: '_FusedMatMul',
      name: 'dense + bias + relu',
      shapes: [[b * 4, 300], [300, 100], [100]],
      op: (a, w, bias) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: w as tf.Tensor2D, bias, activation: 'relu' }),
      grads: [0, 1, 2],
      products: true,
    },
    // Pooling.
    {
      kernel: 'MaxPool',
      name: '3x3/2 same (ResNet stem)',
      shapes: [[b, 17, 17, 8]],
      op: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'),
      grads: [0],
    },
    {
      kernel: 'MaxPool',
      name: '3x3/2 valid (AlexNet)',
      shapes: [[b, 27, 27, 8]],
      op: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'valid'),
      grads: [0],
    },
    {
      kernel: 'AvgPool',
      name: '1x1/2 (option-A shortcut)',
      shapes: [[b, 16, 16, 8]],
      op: (x) => tf.avgPool(x as tf.Tensor4D, 1, 2, 'valid'),
      grads: [0],
    },
    {
      kernel: 'AvgPool',
      name: '3x3/2 same',
      shapes: [[b, 15, 15, 4]],
      op: (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'),
      grads: [0],
    },
    // Batch norm.
    ...[false, true].flatMap((relu): Case[] => [
      {
        kernel: relu ? 'ResNetBatchNormReluTraining' : 'ResNetBatchNormTraining',
        name: 'y, mean, variance',
        shapes: [[b, 9, 9, 16], [16], [16]],
        op: batchNormKernel(relu),
        reference: batchNormComposite(relu),
      },
      {
        kernel: relu ? 'ResNetBatchNormReluTrainingGrad' : 'ResNetBatchNormTrainingGrad',
        name: 'dx, dScale, dOffset',
        shapes: [[b, 9, 9, 16], [16], [16], [b, 9, 9, 16]],
        op: batchNormGradKernel(relu),
        reference: batchNormGradReference(relu),
      },
    ]),
    {
      kernel: 'FusedBatchNorm',
      name: 'inference',
      shapes: [[b, 5, 5, 12], [12], [12], [12], [12]],
      positive: [2],
      op: (x, m, v, o, s) => tf.batchNorm(x!, m!, v!, o, s, 1e-3),
      grads: [0],
    },
    {
      kernel: 'LRN',
      name: 'AlexNet (radius 2)',
      shapes: [[b, 6, 6, 16]],
      op: (x) => tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 1e-4, 0.75),
      grads: [0],
    },
    // Element-wise, reductions and data movement the networks and the loss use.
    {
      kernel: 'Relu',
      name: 'forward and gradient',
      shapes: [[b, 8, 8, 16]],
      op: (x) => tf.relu(x!),
      grads: [0],
    },
    {
      kernel: 'Add',
      name: 'broadcast bias',
      shapes: [[b, 7, 7, 16], [16]],
      op: (x, y) => tf.add(x!, y!),
      grads: [0, 1],
    },
    {
      kernel: 'Multiply',
      name: 'broadcast rows',
      shapes: [
        [6, 1, 5],
        [4, 1],
      ],
      op: (x, y) => tf.mul(x!, y!),
      grads: [0, 1],
    },
    {
      kernel: 'RealDiv',
      name: 'same shape',
      shapes: [
        [3, 50],
        [3, 50],
      ],
      positive: [1],
      op: (x, y) => tf.div(x!, y!),
      grads: [0, 1],
    },
    {
      kernel: 'Exp/Log',
      name: 'log(exp(x) + 1)',
      shapes: [[100]],
      op: (x) => tf.log(tf.add(tf.exp(x!), 1)),
      grads: [0],
    },
    {
      kernel: 'Mean',
      name: 'global average pool',
      shapes: [[b, 8, 8, 64]],
      op: (x) => tf.mean(x!, [1, 2]),
      grads: [0],
    },
    {
      kernel: 'Sum',
      name: 'axes 0 and 2 (non-contiguous)',
      shapes: [[5, 6, 7]],
      op: (x) => tf.sum(x!, [0, 2]),
      grads: [0],
    },
    {
      kernel: 'Sum',
      name: 'bias gradient over 100k rows',
      shapes: [[full ? 100000 : 3000, 16]],
      op: (x) => tf.sum(x!, 0),
    },
    { kernel: 'Max', name: 'last axis', shapes: [[b * 8, 10]], op: (x) => tf.max(x!, -1), grads: [0] },
    { kernel: 'ArgMax', name: 'top-1 of logits', shapes: [[b * 8, 10]], op: (x) => tf.argMax(x!, -1) },
    { kernel: 'Softmax', name: 'logits', shapes: [[b * 8, 10]], op: (x) => tf.softmax(x!), grads: [0] },
    {
      kernel: 'softmaxCrossEntropy',
      // Written out: tfjs's own op trips its leak check (IS_TEST) under tf.grads.
      name: 'from class indices (log-sum-exp)',
      shapes: [[b * 8], [b * 8, 10]],
      ints: { 0: 10 },
      op: (labels, logits) => {
        const logProbs = tf.sub(logits!, tf.logSumExp(logits!, -1, true));
        return tf.mean(tf.neg(tf.sum(tf.mul(tf.oneHot(labels as tf.Tensor1D, 10), logProbs), -1)));
      },
      grads: [1],
    },
    {
      kernel: 'PadV2',
      name: 'option-A channel padding',
      shapes: [[b, 8, 8, 16]],
      op: (x) =>
        tf.pad(x!, [
          [0, 0],
          [0, 0],
          [0, 0],
          [8, 8],
        ]),
      grads: [0],
    },
    {
      kernel: 'StridedSlice',
      name: 'every second pixel',
      shapes: [[b, 8, 8, 4]],
      op: (x) => tf.stridedSlice(x!, [0, 0, 0, 0], [b, 8, 8, 4], [1, 2, 2, 1]),
    },
    {
      kernel: 'Transpose',
      name: 'NHWC to NCHW',
      shapes: [[b, 5, 6, 7]],
      op: (x) => tf.transpose(x!, [0, 3, 1, 2]),
      grads: [0],
    },
    {
      kernel: 'Concat',
      name: 'channels',
      shapes: [
        [b, 4, 4, 3],
        [b, 4, 4, 5],
      ],
      op: (x, y) => tf.concat([x!, y!], 3),
      grads: [0, 1],
    },
    {
      kernel: 'Cast',
      name: 'float to int and back',
      shapes: [[50]],
      op: (x) => tf.cast(tf.cast(tf.mul(x!, 10), 'int32'), 'float32'),
    },
    {
      kernel: 'ResNetSgdUpdate',
      name: 'Nesterov + decay, bit for bit',
      shapes: [[1000], [1000], [1000]],
      op: (p, g, v) =>
        tf.engine().runKernel(
          'ResNetSgdUpdate',
          { param: p!, grad: g!, velocity: v! },
          {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            keep: 1 - 0.1 * 5e-4,
          },
        ) as tf.Tensor[],
      reference: (p, g, v) => sgdChain(p!, g!, v!),
      tolerance: 0,
    },
  ];
  return list;
}

function compare(gpu: Float32Array | Int32Array, cpu: Float32Array | Int32Array): [number, number] {
  let maxAbs = 0;
  let diff2 = 0;
  let ref2 = 0;
  for (let i = 0; i < cpu.length; i++) {
    const a = gpu[i]!;
    const r = cpu[i]!;
    if (Number.isNaN(a) !== Number.isNaN(r) || (!Number.isFinite(r) && a !== r))
      return [Number.NaN, Number.NaN];
    if (!Number.isFinite(r)) continue;
    const d = Math.abs(a - r);
    maxAbs = Math.max(maxAbs, d);
    diff2 += d * d;
    ref2 += r * r;
  }
  const rel = diff2 === 0 ? 0 : Math.sqrt(diff2) / Math.max(Math.sqrt(ref2), 1e-30);
  return [maxAbs, rel];
}

type Values = (Float32Array | Int32Array)[];

/** The outputs of a case, then the gradients it asks for, each with a label. */
function evaluate(
  c: Case,
  inputs: Values,
  /** The fixed random w of Σ w·output, made once for the output's size. */
  weights: ((size: number) => Float32Array) | undefined,
  useReference: boolean,
): [string, Float32Array | Int32Array][] {
  return tf.tidy(() => {
    const tensors = inputs.map((values, i) =>
      tf.tensor(values, c.shapes[i], values instanceof Int32Array ? 'int32' : 'float32'),
    );
    const op = (useReference && c.reference) || c.op;
    const forward = op(...tensors);
    const outputs = Array.isArray(forward) ? forward : [forward];
    const results: [string, Float32Array | Int32Array][] = outputs.map((t, i) => [
      outputs.length > 1 ? `output ${i}` : 'forward',
      t.dataSync() as Float32Array | Int32Array,
    ]);
    if (c.grads && weights) {
      const w = weights(outputs[0]!.size);
      const f = (...xs: tf.Tensor[]) => {
        const all = [...tensors];
        c.grads!.forEach((index, k) => {
          all[index] = xs[k]!;
        });
        const out = op(...all);
        const first = (Array.isArray(out) ? out[0] : out) as tf.Tensor;
        return tf.sum(tf.mul(first, tf.tensor(w, first.shape)));
      };
      const grads = tf.grads(f)(c.grads.map((i) => tensors[i]!));
      grads.forEach((g, k) => {
        results.push([`gradient of input ${c.grads![k]}`, g.dataSync() as Float32Array]);
      });
    }
    return results;
  });
}

function toleranceFor(c: Case, precision: Precision): number {
  const base = c.tolerance ?? 1e-4;
  if (!c.products || precision === 'fp32') return base;
  return precision === 'tf32' ? Math.max(base, 3e-3) : Math.max(base, 2e-2);
}

/**
 * Runs every kernel the ResNets and AlexNet train with on the `cuda` backend and on the tfjs CPU
 * backend, forward and gradients, on seeded random inputs of ResNet shapes (stride 2, the 7x7/2
 * stem, odd sizes, batch 1 and 256 at `full` scale), and reports the differences. Leaves the
 * active backend as it found it.
 */
export async function selfTest(options: SelfTestOptions = {}): Promise<KernelCheck[]> {
  const previousBackend = tf.getBackend();
  const previousPrecision = getPrecision();
  const previousEngine = getMatmulEngine() ?? 'auto';
  const configs = options.configs ?? [
    { precision: options.precision ?? previousPrecision, engine: previousEngine },
  ];
  const random = mulberry32(options.seed ?? 2024);
  const results: KernelCheck[] = [];
  try {
    for (const c of cases(options.scale === 'full')) {
      if (options.filter && !options.filter.test(c.kernel) && !options.filter.test(c.name)) continue;
      const inputs: Values = c.shapes.map((shape, i) => {
        const size = shape.reduce((p, q) => p * q, 1);
        if (c.ints?.[i] !== undefined) {
          return Int32Array.from({ length: size }, () => Math.floor(random() * c.ints![i]!));
        }
        const positive = c.positive?.includes(i);
        return Float32Array.from({ length: size }, () => (positive ? 0.5 + random() : random() * 2 - 1));
      });
      await tf.setBackend('cpu');
      // The cpu backend's "install tfjs-node" banner would only mislead here.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      let w: Float32Array | undefined;
      const weights = (size: number) => {
        w ??= Float32Array.from({ length: size }, () => random() * 2 - 1);
        return w;
      };
      const cpuStart = performance.now();
      const cpu = evaluate(c, inputs, weights, true);
      const cpuMs = performance.now() - cpuStart;
      await tf.setBackend(BACKEND_NAME);
      for (const { precision, engine } of configs) {
        // Cases without products run the same code in every configuration: once is enough.
        if (!c.products && (precision !== configs[0]!.precision || engine !== configs[0]!.engine)) continue;
        setPrecision(precision);
        setMatmulEngine(engine);
        const tolerance = toleranceFor(c, precision);
        const start = performance.now();
        let gpu: [string, Float32Array | Int32Array][];
        try {
          gpu = evaluate(c, inputs, weights, false);
        } catch (error) {
          const failure = { maxAbsError: Number.NaN, maxRelError: Number.NaN, tolerance, passed: false };
          const ms = performance.now() - start;
          results.push({
            kernel: c.kernel,
            case: c.name,
            ...failure,
            ms,
            cpuMs,
            precision,
            engine,
            error: (error as Error).message,
          });
          continue;
        }
        const ms = performance.now() - start;
        cpu.forEach(([label, ref], i) => {
          const got = gpu[i]?.[1];
          const [maxAbs, rel] =
            got && got.length === ref.length ? compare(got, ref) : [Number.NaN, Number.NaN];
          const passed = tolerance === 0 ? maxAbs === 0 : rel <= tolerance;
          results.push({
            kernel: c.kernel,
            case: `${c.name} [${label}]`,
            maxAbsError: maxAbs,
            maxRelError: rel,
            tolerance,
            passed,
            ms,
            cpuMs,
            precision,
            engine,
          });
        });
      }
    }
  } finally {
    setPrecision(previousPrecision);
    setMatmulEngine(previousEngine);
    await tf.setBackend(previousBackend ?? 'cpu');
  }
  return results;
}
