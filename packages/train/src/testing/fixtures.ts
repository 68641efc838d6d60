import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeImage } from '@resnet-ts/augment';

/** A deterministic pseudo-random stream for fixtures. */
export function fixtureRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * Writes `root/<class>/<n>.png`: class c is noise around a colour and a stripe orientation of its
 * own, so a small network learns it in a couple of epochs. `firstClass` starts at another class
 * (3: classes d, e, f — the colours of a, b, c with the other stripe orientation): a related task
 * for fine-tuning tests.
 */
export async function writeFolderDataset(
  root: string,
  options: { classes?: number; perClass?: number; size?: number; seed?: number; firstClass?: number } = {},
): Promise<string[]> {
  const classes = options.classes ?? 3;
  const perClass = options.perClass ?? 20;
  const size = options.size ?? 16;
  const random = fixtureRandom(options.seed ?? 7);
  const first = options.firstClass ?? 0;
  const names = Array.from({ length: classes }, (_, c) => `class-${String.fromCharCode(97 + first + c)}`);
  for (const [index, name] of names.entries()) {
    const c = first + index;
    await mkdir(path.join(root, name), { recursive: true });
    for (let n = 0; n < perClass; n++) {
      const data = new Uint8Array(size * size * 3);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const stripe = (c % 2 === 0 ? x : y) % 4 < 2 ? 60 : 0;
          for (let ch = 0; ch < 3; ch++) {
            const base = ch === c % 3 ? 170 : 60;
            data[(y * size + x) * 3 + ch] = Math.min(
              255,
              Math.max(0, base + stripe + Math.round((random() - 0.5) * 80)),
            );
          }
        }
      }
      await writeFile(
        path.join(root, name, `${String(n).padStart(3, '0')}.png`),
        await encodeImage({ data, width: size, height: size, channels: 3 }, 'png'),
      );
    }
  }
  return names;
}
