import { useBackend } from '@resnet-ts/backends';
import { countFlops, countParams, parseModelName, summary } from '@resnet-ts/resnet-core';
import { buildModel } from '@resnet-ts/train';
import type { Io } from '../io';

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
  // The name (with its options: a 9n+2 depth needs block 'bottleneck') gives the default input and
  // classes; a bad one fails here, before a backend is loaded.
  const { defaults } = parseModelName(flags.model, flags.modelOptions);
  await useBackend('auto');
  const input = flags.input ?? defaults.inputShape[0];
  const model = buildModel({
    model: flags.model,
    numClasses: flags.classes ?? defaults.numClasses,
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
