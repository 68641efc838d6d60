import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { ScrapeConfigError } from './errors';

/**
 * Where each class's image URLs come from (the seed's ImageNet API is gone):
 * - `template`: a URL with `{wnid}`, answering one URL per line (the old `geturls` API's format);
 * - `dir`: a directory of `<wnid>.txt` files, one URL per line;
 * - `list`: one CSV, TSV or JSONL file of (url, wnid) rows for all classes.
 */
export type UrlSource =
  | { kind: 'template'; url: string }
  | { kind: 'dir'; path: string }
  | { kind: 'list'; path: string };

/** Parses `--url-source`: an http(s) URL with {wnid}, a directory, or a list file. */
export async function parseUrlSource(text: string): Promise<UrlSource> {
  if (/^https?:\/\//.test(text)) {
    if (!text.includes('{wnid}'))
      throw new ScrapeConfigError(`url-source: ${text} needs a {wnid} placeholder`);
    return { kind: 'template', url: text };
  }
  const info = await stat(text).catch(() => undefined);
  if (!info)
    throw new ScrapeConfigError(
      `url-source: ${text} does not exist (expected an http(s) template with {wnid}, a directory of <wnid>.txt, or a CSV/TSV/JSONL list)`,
    );
  return info.isDirectory() ? { kind: 'dir', path: text } : { kind: 'list', path: text };
}

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

function parseList(text: string, file: string): Map<string, string[]> {
  const byWnid = new Map<string, string[]>();
  const add = (wnid: string, url: string) => {
    const list = byWnid.get(wnid) ?? [];
    list.push(url);
    byWnid.set(wnid, list);
  };
  const rows = lines(text);
  if (file.endsWith('.jsonl') || rows[0]?.startsWith('{')) {
    rows.forEach((row, i) => {
      let value: { url?: unknown; wnid?: unknown; label?: unknown };
      try {
        value = JSON.parse(row);
      } catch {
        throw new ScrapeConfigError(`${file}:${i + 1}: not a JSON object`);
      }
      const wnid = value.wnid ?? value.label;
      if (typeof value.url !== 'string' || typeof wnid !== 'string')
        throw new ScrapeConfigError(`${file}:${i + 1}: needs "url" and "wnid" (or "label")`);
      add(wnid, value.url);
    });
    return byWnid;
  }
  const separator = rows[0]?.includes('\t') ? '\t' : ',';
  const header = rows[0]?.split(separator).map((h) => h.trim().toLowerCase()) ?? [];
  const urlColumn = header.indexOf('url');
  const wnidColumn = header.includes('wnid') ? header.indexOf('wnid') : header.indexOf('label');
  if (urlColumn < 0 || wnidColumn < 0)
    throw new ScrapeConfigError(`${file}: the header needs "url" and "wnid" (or "label") columns`);
  rows.slice(1).forEach((row) => {
    const cells = row.split(separator);
    const url = cells[urlColumn]?.trim();
    const wnid = cells[wnidColumn]?.trim();
    if (url && wnid) add(wnid, url);
  });
  return byWnid;
}

/** The URL list of each requested class, in source order, without exact repeats. */
export async function loadUrls(
  source: UrlSource,
  wnids: string[],
  userAgent: string,
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  const unique = (urls: string[]) => [...new Set(urls)];
  if (source.kind === 'list') {
    const all = parseList(await readFile(source.path, 'utf8'), source.path);
    for (const wnid of wnids) result.set(wnid, unique(all.get(wnid) ?? []));
    return result;
  }
  for (const wnid of wnids) {
    if (source.kind === 'dir') {
      const file = path.join(source.path, `${wnid}.txt`);
      const text = await readFile(file, 'utf8').catch(() => {
        throw new ScrapeConfigError(`url-source: ${file} does not exist`);
      });
      result.set(wnid, unique(lines(text)));
    } else {
      const url = source.url.replaceAll('{wnid}', wnid);
      const response = await request(url, { headers: { 'user-agent': userAgent } }).catch((error: Error) => {
        throw new ScrapeConfigError(`url-source: ${url} failed (${error.message})`);
      });
      const text = await response.body.text();
      if (response.statusCode !== 200)
        throw new ScrapeConfigError(`url-source: ${url} answered HTTP ${response.statusCode}`);
      result.set(wnid, unique(lines(text)));
    }
  }
  return result;
}
