import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { encodeImage } from '@resnet-ts/augment';
import { resnet } from './testing';

// The scraper's own redis-server harness (a test helper, not in its published API), loaded at run
// time: it lies outside this package's rootDir, so not through an import.
interface RedisServer {
  url: string;
  stop(): Promise<void>;
}
const { redisAvailable, startRedis } = require(
  path.join(__dirname, '..', '..', '..', 'packages', 'imagenet-scraper', 'src', 'testing', 'redis'),
) as { redisAvailable(): boolean; startRedis(): Promise<RedisServer> };

const maybe = redisAvailable() ? describe : describe.skip;

maybe('resnet scrape --queue, scrape worker, scrape status', () => {
  let redis: RedisServer;
  let server: ReturnType<typeof createServer>;
  let base: string;
  beforeAll(async () => {
    redis = await startRedis();
    const jpegs = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        encodeImage(
          {
            data: new Uint8Array(40 * 40 * 3).map((_, i) => (i * (n + 3)) % 251),
            width: 40,
            height: 40,
            channels: 3,
          },
          'jpeg',
        ),
      ),
    );
    server = createServer((req, res) => {
      const body = jpegs[Number(req.url?.match(/^\/(\d+)\.jpg$/)?.[1] ?? -1)];
      // A little latency, so that the run is still going when status asks.
      setTimeout(() => {
        res.writeHead(body ? 200 : 404, body ? { 'content-type': 'image/jpeg' } : {});
        res.end(body);
      }, 30);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.close();
    await redis?.stop();
  });

  it('a run spread over two workers writes exactly --per-class images per class', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cli-queue-'));
    await mkdir(path.join(root, 'urls'));
    await writeFile(
      path.join(root, 'urls', 'n01440764.txt'),
      [0, 1, 2, 3, 99].map((n) => `${base}/${n}.jpg`).join('\n'),
    );
    await writeFile(
      path.join(root, 'urls', 'n01443537.txt'),
      [4, 5, 6, 7].map((n) => `${base}/${n}.jpg`).join('\n'),
    );
    const out = path.join(root, 'out');
    const queue = ['--queue', redis.url, '--queue-name', 'cli'];
    expect(await resnet('scrape', 'status', ...queue)).toMatchObject({
      code: 0,
      out: 'queue "cli" holds no run (none started, or the last one ended)\n',
    });
    const workers = [
      resnet('scrape', 'worker', ...queue, '--classes-at-once', '1'),
      resnet('scrape', 'worker', ...queue),
    ];
    const run = resnet(
      'scrape',
      '--wnids',
      'n01440764,n01443537',
      '--per-class',
      '3',
      '--url-source',
      path.join(root, 'urls'),
      '--out',
      out,
      '--concurrency',
      '2',
      ...queue,
    );
    // While it runs: a line per class.
    let status = await resnet('scrape', 'status', ...queue);
    for (let i = 0; i < 50 && !status.out.startsWith('run '); i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = await resnet('scrape', 'status', ...queue);
    }
    expect(status.out).toMatch(/^run \S+: out .+\n\d+\/6 images, \d\/2 classes done;/);
    expect(status.out).toMatch(/\nn01440764 tench: \d\/3 /);
    const done = await run;
    expect(done.err).toMatch(/one job per class on the queue; start workers with: resnet scrape worker/);
    expect(done).toMatchObject({ code: 0 });
    expect(done.out).toMatch(/n01440764 tench: 3\/3\nn01443537 goldfish: 3\/3\n6 saved of \d+ tried/);
    const finished = await Promise.all(workers);
    for (const w of finished) expect(w.code).toBe(0);
    expect(finished.map((w) => w.out).join('')).toMatch(/worker: \d classes ended here/);
    expect(await readdir(path.join(out, 'tench'))).toHaveLength(3);
    expect(await readdir(path.join(out, 'goldfish'))).toHaveLength(3);
  }, 60_000);

  it('an unreachable queue is one line, exit 1', async () => {
    const bad = await resnet('scrape', 'worker', '--queue', 'redis://127.0.0.1:1');
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.err).toMatch(
      /^resnet: queue: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED/,
    );
    const notRedis = await resnet('scrape', 'status', '--queue', 'localhost:6379');
    expect(notRedis.err).toBe('resnet: queue: expected a redis:// or rediss:// URL, got "localhost:6379"\n');
  });
});
