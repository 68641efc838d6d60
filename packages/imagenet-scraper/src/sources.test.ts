import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadUrls, parseUrlSource } from './sources';
import { type FaultServer, startFaultServer } from './testing/server';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const fromList = async (name: string, text: string, wnid: string) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sources-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return (await loadUrls(await parseUrlSource(file), [wnid], 'ua')).get(wnid);
};

describe('CSV and TSV lists', () => {
  it('keep quoted URLs with commas, quotes and fragments; skip comments, blank lines and a BOM', async () => {
    const csv = [
      '\uFEFFurl,wnid,note',
      '"http://b/a,b.jpg",n01440764,"one, two"',
      '# a comment line',
      '',
      'http://b/c.jpg#frag,n01440764,',
      '"http://b/say ""hi"".jpg", n01440764 ,x',
      'http://b/other.jpg,n01443537,',
      '"http://b/no-wnid.jpg",,',
    ].join('\r\n');
    expect(await fromList('list.csv', csv, 'n01440764')).toEqual([
      'http://b/a,b.jpg',
      'http://b/c.jpg#frag',
      'http://b/say "hi".jpg',
    ]);
  });

  it('read TSV by its header, columns in any order, "label" for the wnid', async () => {
    const tsv = 'label\turl\nn01440764\t"http://t/1,2.jpg"\nn01440764\thttp://t/3.jpg\n';
    expect(await fromList('list.tsv', tsv, 'n01440764')).toEqual(['http://t/1,2.jpg', 'http://t/3.jpg']);
  });

  it('a broken list is one clear line naming the file', async () => {
    await expect(fromList('bad.csv', 'url,wnid\n"http://b/1.jpg,n01440764\n', 'n01440764')).rejects.toThrow(
      /bad\.csv: not a valid CSV list \(Quote Not Closed: .* line 2\)$/,
    );
    await expect(fromList('bad.csv', 'link,class\nhttp://b/1.jpg,n01440764\n', 'n01440764')).rejects.toThrow(
      /bad\.csv: the header needs "url" and "wnid" \(or "label"\) columns/,
    );
  });
});

describe('a template URL source', () => {
  const template = (p: string) => parseUrlSource(`${server.base}${p}?wnid={wnid}`);
  // undici's header and body timers are coarse (up to about a second late): the deadline stays clear of them.
  const limits = { headersTimeoutMs: 200, bodyTimeoutMs: 200, timeoutMs: 2500, backoffMs: 10 };

  it('is fetched with retries: a 503 first, then the list', async () => {
    const urls = await loadUrls(await template('/flaky/text/3'), ['n01440764'], { ...limits, retries: 1 });
    expect(urls.get('n01440764')).toEqual([0, 1, 2].map((i) => `${server.base}/img/${i}.jpg`));
  });

  it('a server that never answers times out, after the retries, with one line', async () => {
    const started = Date.now();
    await expect(
      loadUrls(await template('/slow-headers'), ['n01440764'], { ...limits, retries: 1 }),
    ).rejects.toThrow(
      `url-source: ${server.base}/slow-headers?wnid=n01440764 failed: timed out: no response headers within 0.2 s (2 attempts)`,
    );
    expect(Date.now() - started).toBeLessThan(5000); // not the server's 3 s per attempt
  });

  it('a body over the size cap is refused; an error status is named', async () => {
    await expect(
      loadUrls(await template('/big'), ['n01440764'], { ...limits, maxBytes: 1000 }),
    ).rejects.toThrow(/failed: body over 1000 bytes$/);
    await expect(loadUrls(await template('/status/404'), ['n01440764'], limits)).rejects.toThrow(
      /answered HTTP 404$/,
    );
  });
});
