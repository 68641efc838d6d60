import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseClassInfo } from './classes';
import { parseRetryAfter } from './fetch';
import { safeFolderName } from './paths';
import { loadUrls, parseUrlSource } from './sources';
import { startFaultServer } from './testing/server';
import { sniffFormat } from './validate';

describe('small pieces', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('sniffs formats by magic bytes', () => {
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpg');
    expect(sniffFormat(Buffer.from('\x89PNG\r\n', 'latin1'))).toBe('png');
    expect(sniffFormat(Buffer.from('RIFF1234WEBPVP8 '))).toBe('webp');
    expect(sniffFormat(Buffer.from('<html>'))).toBeUndefined();
  });

  it('makes class names safe folder names', () => {
    expect(safeFolderName('great white shark', 'n1')).toBe('great white shark');
    expect(safeFolderName('a/b\\c', 'n1')).toBe('a_b_c');
    expect(safeFolderName('..', 'n01234567')).toBe('n01234567');
    expect(safeFolderName('\u0000evil\n', 'n1')).toBe('_evil_');
  });

  it("reads the original project's class-info JSON and names a bad entry", () => {
    const table = parseClassInfo(
      '{"n00004475": {"img_url_count": 8, "flickr_img_url_count": 6, "class_name": "organism"}}',
      'info.json',
    );
    expect(table.get('n00004475')).toEqual({
      wnid: 'n00004475',
      name: 'organism',
      urlCount: 8,
      flickrUrlCount: 6,
    });
    expect(() => parseClassInfo('{"x": {}}', 'info.json')).toThrow(/info.json: entry "x" needs a WordNet id/);
  });
});

describe('URL sources', () => {
  it('reads a template URL, a directory of <wnid>.txt and CSV/JSONL lists', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sources-'));
    await writeFile(
      path.join(dir, 'n01440764.txt'),
      'http://a/1.jpg\n# comment\nhttp://a/2.jpg\nhttp://a/1.jpg\n',
    );
    expect((await loadUrls(await parseUrlSource(dir), ['n01440764'], 'ua')).get('n01440764')).toEqual([
      'http://a/1.jpg',
      'http://a/2.jpg',
    ]);
    const csv = path.join(dir, 'list.csv');
    await writeFile(csv, 'url,wnid\nhttp://b/1.jpg,n01440764\nhttp://b/2.jpg,n01443537\n');
    expect((await loadUrls(await parseUrlSource(csv), ['n01443537'], 'ua')).get('n01443537')).toEqual([
      'http://b/2.jpg',
    ]);
    const jsonl = path.join(dir, 'list.jsonl');
    await writeFile(jsonl, '{"url":"http://c/1.jpg","label":"n01440764"}\n');
    expect((await loadUrls(await parseUrlSource(jsonl), ['n01440764'], 'ua')).get('n01440764')).toEqual([
      'http://c/1.jpg',
    ]);
    await expect(parseUrlSource('http://x/api')).rejects.toThrow(/needs a \{wnid\} placeholder/);
    await expect(parseUrlSource(path.join(dir, 'missing'))).rejects.toThrow(/does not exist/);
    const server = await startFaultServer();
    try {
      await expect(
        loadUrls(await parseUrlSource(`${server.base}/status/404?wnid={wnid}`), ['n01440764'], 'ua'),
      ).rejects.toThrow(/answered HTTP 404/);
    } finally {
      await server.close();
    }
  });
});

describe('resize', () => {
  it('shrinks by the shorter or the longer side, never enlarging', async () => {
    const { resizeImage } = await import('./validate');
    const { jpeg } = await import('./testing/server');
    const sharp = (await import('sharp')).default;
    const image = await jpeg(1, 64, 48);
    expect(await sharp(await resizeImage(image, { shorter: 24 })).metadata()).toMatchObject({
      width: 32,
      height: 24,
    });
    expect(await sharp(await resizeImage(image, { max: 32 })).metadata()).toMatchObject({
      width: 32,
      height: 24,
    });
    expect(await sharp(await resizeImage(image, { shorter: 480 })).metadata()).toMatchObject({
      width: 64,
      height: 48,
    });
  });

  it('resizes what validation accepts: a JPEG with a libjpeg warning (extraneous bytes)', async () => {
    const { resizeImage, validateImage } = await import('./validate');
    const { jpeg } = await import('./testing/server');
    const sharp = (await import('sharp')).default;
    const image = await jpeg(2, 64, 48);
    const sos = image.indexOf(Buffer.from([0xff, 0xda]));
    const warned = Buffer.concat([
      image.subarray(0, sos),
      Buffer.from([0x12, 0x34, 0x56]),
      image.subarray(sos),
    ]);
    const limits = { minBytes: 10, minWidth: 32, minHeight: 32, maxPixels: 1e8 };
    expect(await validateImage(warned, limits)).toMatchObject({ ok: true, width: 64, height: 48 });
    expect(await sharp(await resizeImage(warned, { shorter: 24 })).metadata()).toMatchObject({ width: 32 });
  });
});
