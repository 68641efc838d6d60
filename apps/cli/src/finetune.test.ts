import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeImage } from '@resnet-ts/augment';
import { resnet } from './testing';

// Fine-tuning from converted weights: a ResNet-8 that PyTorch trained on gratings of 8 orientations
// (interop's make-fixtures.py), converted, then fine-tuned on 4 orientations between those, beats
// the same run from scratch.
const PRETRAINED = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'packages',
  'interop',
  'fixtures',
  'tv_resnet8_gratings.safetensors',
);

/** xorshift32 in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** The gratings of make-fixtures.py: a sine wave at the class's angle (±4°), random frequency, phase, colours, noise. */
async function writeGratings(root: string, angles: number[], perClass: number, seed: number): Promise<void> {
  const next = random(seed);
  const uniform = (a: number, b: number) => a + (b - a) * next();
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  for (const [label, angle] of angles.entries()) {
    const dir = path.join(root, `angle-${String(label)}`);
    await mkdir(dir, { recursive: true });
    for (let n = 0; n < perClass; n++) {
      const theta = ((angle + uniform(-4, 4)) * Math.PI) / 180;
      const frequency = uniform(0.08, 0.2);
      const phase = uniform(0, 2 * Math.PI);
      const contrast = uniform(0.6, 1);
      const c1 = [next(), next(), next()];
      const c2 = [next(), next(), next()];
      const data = new Uint8Array(32 * 32 * 3);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const v =
            0.5 +
            0.5 *
              contrast *
              Math.sin(2 * Math.PI * frequency * (x * Math.cos(theta) + y * Math.sin(theta)) + phase);
          for (let c = 0; c < 3; c++) {
            const value = (c1[c] as number) * (1 - v) + (c2[c] as number) * v + 0.05 * gaussian();
            data[(y * 32 + x) * 3 + c] = Math.round(Math.min(1, Math.max(0, value)) * 255);
          }
        }
      }
      await writeFile(
        path.join(dir, `${n}.png`),
        await encodeImage({ data, width: 32, height: 32, channels: 3 }, 'png'),
      );
    }
  }
}

/** The last epoch's validation numbers of a run directory. */
async function lastValidation(run: string): Promise<{ top1: number; loss: number }> {
  const lines = (await readFile(path.join(run, 'logs', 'metrics.jsonl'), 'utf8')).trim().split('\n');
  const epochs = lines.map((l) => JSON.parse(l)).filter((r) => r.type === 'epoch' && r.val);
  return epochs.at(-1).val;
}

describe('fine-tuning converted weights', () => {
  it('beats the same run from scratch on a related task', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'resnet-finetune-'));
    const data = path.join(dir, 'gratings');
    // Orientations halfway between the 8 the weights were trained on: new classes, same features.
    await writeGratings(data, [11.25, 56.25, 101.25, 146.25], 24, 3);
    const converted = path.join(dir, 'converted');
    expect((await resnet('convert', '--from', 'torchvision', PRETRAINED, '--out', converted)).code).toBe(0);
    // Same data, split, schedule, seed and preprocessing (torchvision's normalisation, no
    // augmentation: a mirror image changes an orientation); only the starting weights differ.
    const common = [
      '--data',
      data,
      '--epochs',
      '3',
      '--batch-size',
      '16',
      '--lr',
      '0.02',
      '--val-split',
      '0.5',
    ];
    const rest = ['--augment', 'none', '--normalization', 'imagenet', '--seed', '0', '--log-every', '100'];
    const fineTuned = await resnet(
      'train',
      '--pretrained',
      converted,
      ...common,
      ...rest,
      '--out',
      path.join(dir, 'ft'),
    );
    expect(fineTuned.code).toBe(0);
    expect(fineTuned.err + fineTuned.out).toMatch(/fine-tuning from pretrained weights/);
    const scratch = await resnet(
      'train',
      '--model',
      'resnet8',
      '--model-options',
      '{"shortcut":"A"}',
      ...common,
      ...rest,
      '--out',
      path.join(dir, 'scratch'),
    );
    expect(scratch.code).toBe(0);
    const tuned = await lastValidation(path.join(dir, 'ft'));
    const fresh = await lastValidation(path.join(dir, 'scratch'));
    expect(tuned.top1).toBeGreaterThan(fresh.top1 + 0.15);
    expect(tuned.loss).toBeLessThan(fresh.loss);
  });
});
