import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** A distinct real JPEG per seed (noise, so every one has its own sha256). */
export async function jpeg(seed: number, width = 64, height = 48): Promise<Buffer> {
  let s = seed * 2654435761 + 1;
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export interface FaultServer {
  base: string;
  server: Server;
  hits: Map<string, number>;
  /** Every request in arrival order, with its time (Date.now()). */
  log: { url: string; at: number }[];
  /** Requests being answered at once: now, and the most seen (what a host's limit bounds). */
  inFlight: { now: number; max: number };
  close: () => Promise<void>;
}

/**
 * Serves images and injects faults by path:
 * /img/<n>.jpg a real JPEG · /dup/<n>.jpg the same bytes again · /status/<code> · /slow-headers ·
 * /slow-body · /truncated (short of its content-length) · /cut.jpg (a JPEG cut in half, complete
 * response) · /html200 · /wrong-type · /loop/a ↔ /loop/b · /redirect/<n> → /img/<n>.jpg ·
 * /big · /busy/<n> (429 Retry-After: 1 once, then the image) · /tiny · /small-file · /placeholder ·
 * /noai · /bomb (a PNG whose header claims 400 MP) · /hold/<n> (the first /hold/ request of all gets 429 Retry-After: 1, the host's, then
 * images) · /past/<n> (429 with a Retry-After date in the past once, then the image) · /text/<n> (a
 * text/plain list of n URLs) · /flaky/<path> (503 on its first request, then <path>).
 * /stall/<n> (the image, after `stallMs`).
 * `delayMs` slows every image response.
 */
export async function startFaultServer(
  options: { delayMs?: number; stallMs?: number } = {},
): Promise<FaultServer> {
  const images = new Map<number, Buffer>();
  const image = async (n: number) => {
    let b = images.get(n);
    if (!b) {
      b = await jpeg(n);
      images.set(n, b);
    }
    return b;
  };
  const tiny = await jpeg(999, 30, 30); // over 1,000 bytes, under 32×32
  const placeholder = await sharp({
    create: { width: 500, height: 374, channels: 3, background: { r: 204, g: 204, b: 204 } },
  })
    .jpeg()
    .toBuffer();
  // A decompression bomb's shape: a small PNG whose header claims 20000 × 20000 (400 MP).
  const noise = Buffer.alloc(64 * 64 * 3, 0);
  for (let k = 0; k < noise.length; k++) noise[k] = (k * 2654435761) >>> 24; // over 1,000 bytes as PNG
  const bomb = Buffer.from(
    await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toBuffer(),
  );
  bomb.writeUInt32BE(20_000, 16);
  bomb.writeUInt32BE(20_000, 20);
  bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29); // IHDR's CRC
  const hits = new Map<string, number>();
  const log: { url: string; at: number }[] = [];
  let held = false;
  const sockets = new Set<import('node:net').Socket>();
  let base = '';
  // Pending delays, cleared on close so that a test run can exit at once.
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void, ms: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const inFlight = { now: 0, max: 0 };
  const server = createServer(async (req, res) => {
    inFlight.now++;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    res.once('close', () => inFlight.now--);
    let url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    log.push({ url, at: Date.now() });
    url = url.split('?')[0] ?? url; // routes by path: a template source adds ?wnid=…
    if (url.startsWith('/flaky/')) {
      if (hits.get(req.url ?? url) === 1) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        return res.end('busy');
      }
      url = url.slice('/flaky'.length);
    }
    const sendImage = async (bytes: Buffer, headers: Record<string, string> = {}) => {
      if (options.delayMs) await new Promise<void>((r) => later(r, options.delayMs ?? 0));
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.length, ...headers });
      res.end(bytes);
    };
    const imageMatch = url.match(/^\/(img|dup)\/(\d+)\.jpg$/);
    const statusMatch = url.match(/^\/status\/(\d+)$/);
    const loopMatch = url.match(/^\/loop\/(a|b)$/);
    const redirectMatch = url.match(/^\/redirect\/(\d+)$/);
    const busyMatch = url.match(/^\/busy\/(\d+)$/);
    if (imageMatch) return sendImage(await image(Number(imageMatch[2])));
    const stallMatch = url.match(/^\/stall\/(\d+)$/);
    if (stallMatch) {
      const bytes = await image(Number(stallMatch[1]));
      return later(() => void sendImage(bytes), options.stallMs ?? 0);
    }
    if (statusMatch) {
      res.writeHead(Number(statusMatch[1]), { 'content-type': 'text/plain' });
      return res.end('error');
    }
    if (url === '/slow-headers') return later(() => void sendImage(tiny), 3000);
    if (url === '/slow-body') {
      const bytes = await image(500);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.length });
      res.write(bytes.subarray(0, 100));
      return later(() => res.end(bytes.subarray(100)), 3000);
    }
    if (url === '/truncated') {
      const bytes = await image(501);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.length });
      res.write(bytes.subarray(0, bytes.length >> 1));
      return res.socket?.destroy();
    }
    if (url === '/cut.jpg') {
      const bytes = await image(502);
      return sendImage(bytes.subarray(0, bytes.length >> 1));
    }
    if (url === '/html200') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html><body>Sorry, this image is unavailable</body></html>'.repeat(40));
    }
    if (url === '/wrong-type') {
      const bytes = await image(503);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(bytes);
    }
    if (loopMatch) {
      res.writeHead(302, { location: loopMatch[1] === 'a' ? '/loop/b' : '/loop/a' });
      return res.end();
    }
    if (redirectMatch) {
      res.writeHead(301, { location: `/img/${redirectMatch[1]}.jpg` });
      return res.end();
    }
    if (url === '/big') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (let i = 0; i < 40; i++) res.write(chunk);
      return res.end();
    }
    if (busyMatch) {
      if (hits.get(url) === 1) {
        res.writeHead(429, { 'retry-after': '1' });
        return res.end();
      }
      return sendImage(await image(Number(busyMatch[1])));
    }
    const holdMatch = url.match(/^\/(hold|past)\/(\d+)$/);
    if (holdMatch) {
      const first = holdMatch[1] === 'hold' ? !held : hits.get(url) === 1;
      if (holdMatch[1] === 'hold') held = true;
      if (first) {
        const retryAfter = holdMatch[1] === 'hold' ? '1' : new Date(Date.now() - 60_000).toUTCString();
        res.writeHead(429, { 'retry-after': retryAfter });
        return res.end();
      }
      return sendImage(await image(Number(holdMatch[2])));
    }
    const textMatch = url.match(/^\/text\/(\d+)$/);
    if (textMatch) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(
        Array.from({ length: Number(textMatch[1]) }, (_, i) => `${base}/img/${i}.jpg\n`).join(''),
      );
    }
    if (url === '/bomb') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': bomb.length });
      return res.end(bomb);
    }
    if (url === '/tiny') return sendImage(tiny);
    if (url === '/small-file') return sendImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    if (url === '/placeholder') return sendImage(placeholder);
    if (url === '/noai') return sendImage(await image(504), { 'x-robots-tag': 'noai, noimageai' });
    res.writeHead(404);
    res.end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    server,
    hits,
    log,
    inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Scrape options for tests against the fault server: short timeouts, little backoff, frequent stats. */
export const FAST_SCRAPE = {
  concurrency: 8,
  perHost: 4,
  headersTimeoutMs: 400,
  bodyTimeoutMs: 400,
  timeoutMs: 1500,
  retries: 1,
  backoffMs: 10,
  maxRetryAfterMs: 2000,
  maxBytes: 1 << 20,
  statsEveryMs: 100,
};
