import { type Precision, predictImages, type TestTimeAugmentation } from '@resnet-ts/train';
import { useInferenceBackend } from '../backend';
import type { Io } from '../io';

export async function runPredict(
  images: string[],
  flags: {
    model: string;
    top: number;
    tta?: TestTimeAugmentation;
    batchSize?: number;
    backend: string;
    precision?: Precision;
    json?: boolean;
  },
  io: Io,
): Promise<number> {
  const backend = await useInferenceBackend(flags.backend, io);
  const predictions = await predictImages(
    flags.model,
    images,
    flags.top,
    flags.tta,
    flags.batchSize,
    flags.precision,
  );
  // On stderr, and only once it worked: stdout stays the predictions, an error stays one line.
  io.stderr(`backend ${backend}\n`);
  if (flags.json) {
    io.stdout(`${JSON.stringify(predictions, null, 2)}\n`);
    return 0;
  }
  for (const p of predictions) {
    io.stdout(
      `${p.file}\n${p.top.map((t) => `  ${(t.probability * 100).toFixed(2).padStart(6)}%  ${t.label}`).join('\n')}\n`,
    );
  }
  return 0;
}
