// Download + validate + write throughput of the scraper over loopback.
//   npm run bench -- [--images ../../../shared/data/imagenet-samples] [--repeat 5] [--concurrency 64] [--resize 256]
//   npm run bench -- [--phash off]
//   npm run bench -- --faulty 0.5 [--classes 4] [--bad-hosts 16] [--per-host 8] [--headers-timeout 3000] [--retries 2] [--dist <build>]
// The 100 ImageNet samples are served repeatedly by a child process (so its CPU time is not ours),
// each copy made unique by a JPEG comment segment so deduplication keeps them all. Prints one JSON
// line: images/s and the scraper's CPU milliseconds per image.
// --faulty F: that share of the URLs (spread evenly) goes to a second, broken host instead —
// in turn a 404, a 500 (retried) and a request that never gets an answer (a header timeout each
// attempt) — split over --classes classes, each wanting 80% of its good URLs. --dist runs another
// build of the package (e.g. a copy of an older dist/) against the same lists.
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
    faulty: { type: 'string', default: '0' },
    classes: { type: 'string', default: '4' },
    'per-host': { type: 'string' },
    'bad-hosts': { type: 'string', default: '16' },
    // off: no perceptual placeholder hashes (what the dHash of every image costs).
    phash: { type: 'string', default: 'on' },
    'headers-timeout': { type: 'string', default: '3000' },
    retries: { type: 'string', default: '2' },
    dist: { type: 'string', default: path.join(import.meta.dirname, '../dist/index.js') },
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
  // The broken hosts: /404/<n>, /500/<n>, /stall/<n> (never answered), on --bad-hosts ports, each
  // a host with its own per-host limit (dead URLs are spread over many dead hosts on the web).
  const broken = (req, res) => {
    const [, kind] = (req.url ?? '').split('/');
    if (kind === 'stall') return;
    res.writeHead(kind === '500' ? 500 : 404, { 'content-type': 'text/plain' });
    res.end('no');
  };
  const listen = (s) => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s.address().port)));
  const bad = Array.from({ length: Number(opts['bad-hosts']) }, () => listen(createServer(broken)));
  Promise.all([listen(server), ...bad]).then(([good, ...badPorts]) =>
    process.send?.({ good, bad: badPorts }),
  );
} else {
  const { scrape } = await import(path.resolve(opts.dist));
  const serveArgs = ['--serve', '--images', opts.images, '--bad-hosts', opts['bad-hosts']];
  const child = fork(new URL(import.meta.url).pathname, serveArgs, {
    stdio: 'inherit',
  });
  const ports = await new Promise((resolve) => child.once('message', resolve));
  const repeat = Number(opts.repeat);
  const faulty = Number(opts.faulty);
  const good = [];
  for (let copy = 0; copy < repeat; copy++)
    for (let i = 0; i < files.length; i++) good.push(`http://127.0.0.1:${ports.good}/${copy}/${i}`);
  const classCount = faulty > 0 ? Number(opts.classes) : 1;
  const classes = Array.from({ length: classCount }, (_, c) => ({
    wnid: `n${String(1440764 + c).padStart(8, '0')}`,
    name: `bench${c}`,
  }));
  // Each class's good URLs with faulty ones interleaved evenly (Bresenham), at every depth.
  const kinds = ['404', '500', 'stall'];
  let bad = 0;
  const lists = classes.map((_, c) => {
    const list = [];
    const mine = good.filter((__, i) => i % classCount === c);
    for (let g = 0, b = 0; g < mine.length; ) {
      if (faulty > 0 && (b + 1) * (1 - faulty) <= (g + 1) * faulty) {
        const port = ports.bad[bad % ports.bad.length];
        list.push(`http://127.0.0.1:${port}/${kinds[bad % kinds.length]}/${bad}`);
        bad++;
        b++;
      } else list.push(mine[g++]);
    }
    return list;
  });
  const all = lists.flat();
  const goodPerClass = Math.min(...lists.map((l) => l.filter((u) => u.includes(`:${ports.good}/`)).length));
  const perClass = faulty > 0 ? Math.floor(goodPerClass * 0.8) : good.length;
  const out = mkdtempSync(path.join(os.tmpdir(), 'scrape-bench-'));
  const cpu = process.cpuUsage();
  const start = performance.now();
  const report = await scrape({
    out,
    classes,
    urls: new Map(classes.map((c, i) => [c.wnid, lists[i]])),
    perClass,
    concurrency: Number(opts.concurrency),
    // One host serves a clean run: it may take every slot. A faulty run keeps the default 8.
    perHost: Number(opts['per-host'] ?? (faulty > 0 ? 8 : opts.concurrency)),
    headersTimeoutMs: Number(opts['headers-timeout']),
    retries: Number(opts.retries),
    resize: opts.resize ? { shorter: Number(opts.resize) } : undefined,
    ...(opts.phash === 'off' ? { placeholderHashes: [] } : {}),
  });
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const saved = Object.values(report.classes).reduce((sum, c) => sum + c.saved, 0);
  console.log(
    JSON.stringify({
      bench: faulty > 0 ? 'scrape-faulty' : 'scrape',
      images: saved,
      urls: all.length,
      faulty,
      classes: classCount,
      concurrency: Number(opts.concurrency),
      per_host: Number(opts['per-host'] ?? (faulty > 0 ? 8 : opts.concurrency)),
      resize: opts.resize ? Number(opts.resize) : null,
      phash: opts.phash,
      seconds: Math.round(seconds * 100) / 100,
      images_per_s: Math.round((saved / seconds) * 10) / 10,
      cpu_ms_per_image: Math.round(((used.user + used.system) / 1000 / saved) * 10) / 10,
      cores: os.availableParallelism(),
    }),
  );
  child.kill();
  rmSync(out, { recursive: true, force: true });
}
