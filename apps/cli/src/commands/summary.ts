import { countFlops, countParams, summary } from '@resnet-ts/resnet-core';
import { buildModel, useBackend } from '@resnet-ts/train';
import type { Io } from '../io';

const CIFAR_DEPTH = (depth: number) =>
  (depth - 2) % 6 === 0 && ![10, 18, 34, 50, 101, 152, 200].includes(depth);

export async function runSummary(
  flags: {
    model: string;
    input?: number;
    classes?: number;
    modelOptions?: Record<string, unknown>;
    json?: boolean;
  },
  io: Io,
): Promise<number> {
  await useBackend('auto');
  const depth = Number(/^resnet(\d+)$/.exec(flags.model)?.[1] ?? 0);
  const small = depth > 0 && CIFAR_DEPTH(depth);
  const input = flags.input ?? (flags.model === 'alexnet' ? 227 : small ? 32 : 224);
  const model = buildModel({
    model: flags.model,
    numClasses: flags.classes ?? (small ? 10 : 1000),
    inputSize: [input, input],
    seed: 0,
    options: flags.modelOptions,
  });
  try {
    if (flags.json) {
      const params = countParams(model);
      io.stdout(
        `${JSON.stringify({ model: flags.model, input, layers: model.layers.length, params, flops: countFlops(model) }, null, 2)}\n`,
      );
    } else {
      io.stdout(`${summary(model)}\n`);
    }
    return 0;
  } finally {
    model.dispose();
  }
}
