import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  close: () => Promise<void>;
}

/**
 * Serves images and injects faults by path:
 * /img/<n>.jpg a real JPEG · /dup/<n>.jpg the same bytes again · /status/<code> · /slow-headers ·
 * /slow-body · /truncated (short of its content-length) · /cut.jpg (a JPEG cut in half, complete
 * response) · /html200 · /wrong-type · /loop/a ↔ /loop/b · /redirect/<n> → /img/<n>.jpg ·
 * /big · /busy/<n> (429 Retry-After: 1 once, then the image) · /tiny · /small-file · /placeholder ·
 * /noai. `delayMs` slows every image response.
 */
export async function startFaultServer(options: { delayMs?: number } = {}): Promise<FaultServer> {
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
  const hits = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const sendImage = async (bytes: Buffer, headers: Record<string, string> = {}) => {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.length, ...headers });
      res.end(bytes);
    };
    const imageMatch = url.match(/^\/(img|dup)\/(\d+)\.jpg$/);
    const statusMatch = url.match(/^\/status\/(\d+)$/);
    const loopMatch = url.match(/^\/loop\/(a|b)$/);
    const redirectMatch = url.match(/^\/redirect\/(\d+)$/);
    const busyMatch = url.match(/^\/busy\/(\d+)$/);
    if (imageMatch) return sendImage(await image(Number(imageMatch[2])));
    if (statusMatch) {
      res.writeHead(Number(statusMatch[1]), { 'content-type': 'text/plain' });
      return res.end('error');
    }
    if (url === '/slow-headers') return setTimeout(() => sendImage(tiny), 3000);
    if (url === '/slow-body') {
      const bytes = await image(500);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.length });
      res.write(bytes.subarray(0, 100));
      return setTimeout(() => res.end(bytes.subarray(100)), 3000);
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
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    server,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
