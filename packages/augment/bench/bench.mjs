// Input-pipeline throughput, one JSON line per case (images/s with the threads libvips chose, and
// per core of CPU time used):
//   1. decode + random-resized-crop 224 + flip + normalise on ../shared/data/imagenet-samples
//   2. pad-crop-flip + normalise of 32x32 images (CIFAR) in batches of 128
//   npm run bench [-- --rounds 3]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compose, decodeImage, IMAGENET_PER_CHANNEL } from '../dist/index.js';

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const samples = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'imagenet-samples');

async function measure(name, count, run) {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify({
      case: name,
      images: count,
      img_s: Math.round((count / seconds) * 10) / 10,
      img_s_per_core: Math.round((count / cpuSeconds) * 10) / 10,
    }),
  );
}

for (let round = 0; round < Number(opts.rounds); round++) {
  if (existsSync(samples)) {
    const files = readdirSync(samples)
      .filter((f) => /\.jpe?g$/i.test(f))
      .sort();
    const bytes = files.map((f) => readFileSync(join(samples, f)));
    const pipeline = compose({
      steps: [{ op: 'randomResizedCrop', size: 224 }, { op: 'flip' }],
      normalization: IMAGENET_PER_CHANNEL,
    });
    await measure('imagenet decode+rrc224+flip+normalise', files.length, async () => {
      for (const [index, data] of bytes.entries())
        await pipeline(await decodeImage(data), { seed: 1, epoch: round, index });
    });
  } else if (round === 0) {
    console.error(`skipping the ImageNet case: ${samples} not found`);
  }
  const cifar = {
    data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256),
    width: 32,
    height: 32,
    channels: 3,
  };
  const pipeline = compose({
    steps: [{ op: 'padCropFlip', padding: 4 }],
    normalization: { mode: 'per-channel', mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] },
  });
  await measure('cifar pad-crop-flip+normalise (10 batches of 128)', 1280, async () => {
    for (let index = 0; index < 1280; index++) await pipeline(cifar, { seed: 1, epoch: round, index });
  });
}
