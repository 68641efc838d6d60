// Download + validate + write throughput of the scraper over loopback.
//   npm run bench -- [--images ../../../shared/data/imagenet-samples] [--repeat 5] [--concurrency 64] [--resize 256]
// The 100 ImageNet samples are served repeatedly by a child process (so its CPU time is not ours),
// each copy made unique by a JPEG comment segment so deduplication keeps them all. Prints one JSON
// line: images/s and the scraper's CPU milliseconds per image.
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    images: {
      type: 'string',
      default: path.join(import.meta.dirname, '../../../../shared/data/imagenet-samples'),
    },
    repeat: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    resize: { type: 'string' },
    serve: { type: 'boolean', default: false },
  },
});

const files = readdirSync(opts.images)
  .filter((f) => /\.jpe?g$/i.test(f))
  .sort();

if (opts.serve) {
  const bodies = files.map((f) => readFileSync(path.join(opts.images, f)));
  const server = createServer((req, res) => {
    const [, copy, index] = (req.url ?? '').split('/').map(Number);
    const body = bodies[index % bodies.length];
    // SOI, then a COM segment naming the copy, then the rest: a distinct, valid JPEG.
    const comment = Buffer.from(`copy ${copy}`);
    const segment = Buffer.from([0xff, 0xfe, 0, comment.length + 2]);
    const out = Buffer.concat([body.subarray(0, 2), segment, comment, body.subarray(2)]);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': out.length });
    res.end(out);
  });
  server.listen(0, '127.0.0.1', () => process.send?.(server.address().port));
} else {
  const { scrape } = await import('../dist/index.js');
  const child = fork(new URL(import.meta.url).pathname, ['--serve', '--images', opts.images], {
    stdio: 'inherit',
  });
  const port = await new Promise((resolve) => child.once('message', resolve));
  const repeat = Number(opts.repeat);
  const urls = [];
  for (let copy = 0; copy < repeat; copy++)
    for (let i = 0; i < files.length; i++) urls.push(`http://127.0.0.1:${port}/${copy}/${i}`);
  const out = mkdtempSync(path.join(os.tmpdir(), 'scrape-bench-'));
  const cpu = process.cpuUsage();
  const start = performance.now();
  const report = await scrape({
    out,
    classes: [{ wnid: 'n01440764', name: 'bench' }],
    urls: new Map([['n01440764', urls]]),
    perClass: urls.length,
    concurrency: Number(opts.concurrency),
    perHost: Number(opts.concurrency),
    resize: opts.resize ? { shorter: Number(opts.resize) } : undefined,
  });
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const saved = report.classes.n01440764.saved;
  console.log(
    JSON.stringify({
      bench: 'scrape',
      images: saved,
      concurrency: Number(opts.concurrency),
      resize: opts.resize ? Number(opts.resize) : null,
      seconds: Math.round(seconds * 100) / 100,
      images_per_s: Math.round((saved / seconds) * 10) / 10,
      cpu_ms_per_image: Math.round(((used.user + used.system) / 1000 / saved) * 10) / 10,
      cores: os.availableParallelism(),
    }),
  );
  child.kill();
  rmSync(out, { recursive: true, force: true });
}
