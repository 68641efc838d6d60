import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { Agent } from 'undici';
import { firstLine, ScrapeConfigError } from './errors';
import { fetchList } from './fetch';
import { DEFAULTS } from './options';
import type { ScrapeOptions } from './scrape';

/**
 * Where each class's image URLs come from (the original project's ImageNet API is gone):
 * - `template`: a URL with `{wnid}`, answering one URL per line (the old `geturls` API's format);
 * - `dir`: a directory of `<wnid>.txt` files, one URL per line;
 * - `list`: one CSV, TSV or JSONL file of (url, wnid) rows for all classes.
 */
export type UrlSource =
  | { kind: 'template'; url: string }
  | { kind: 'dir'; path: string }
  | { kind: 'list'; path: string };

/**
 * How a `template` source is fetched: the scraper's own options, with its defaults — the same
 * timeouts, body size cap, redirect limit and retries as an image.
 */
export type UrlListOptions = Pick<
  ScrapeOptions,
  | 'userAgent'
  | 'connectTimeoutMs'
  | 'headersTimeoutMs'
  | 'bodyTimeoutMs'
  | 'timeoutMs'
  | 'maxBytes'
  | 'maxRedirects'
  | 'retries'
  | 'backoffMs'
  | 'maxRetryAfterMs'
  | 'signal'
>;

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

function parseJsonl(rows: string[], file: string, add: (wnid: string, url: string) => void) {
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
}

/**
 * CSV or TSV (by the header's separator), parsed by csv-parse: quoted fields may hold the
 * separator, quotes ("") and line breaks. `#` starts a comment only at the start of a line, so a
 * URL's fragment survives.
 */
function parseDelimited(text: string, header: string, file: string): string[][] {
  const delimiter = header.includes('\t') ? '\t' : ',';
  try {
    return parse(text, {
      delimiter,
      bom: true,
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      trim: true,
    }) as string[][];
  } catch (error) {
    throw new ScrapeConfigError(
      `${file}: not a valid ${delimiter === ',' ? 'CSV' : 'TSV'} list (${firstLine(error)})`,
    );
  }
}

function parseList(text: string, file: string): Map<string, string[]> {
  const byWnid = new Map<string, string[]>();
  const add = (wnid: string, url: string) => {
    const list = byWnid.get(wnid) ?? [];
    list.push(url);
    byWnid.set(wnid, list);
  };
  const rows = lines(text.replace(/^\uFEFF/, ''));
  if (file.endsWith('.jsonl') || rows[0]?.startsWith('{')) {
    parseJsonl(rows, file, add);
    return byWnid;
  }
  const [header = [], ...records] = parseDelimited(text, rows[0] ?? '', file);
  const names = header.map((h) => h.toLowerCase());
  const urlColumn = names.indexOf('url');
  const wnidColumn = names.includes('wnid') ? names.indexOf('wnid') : names.indexOf('label');
  if (urlColumn < 0 || wnidColumn < 0)
    throw new ScrapeConfigError(`${file}: the header needs "url" and "wnid" (or "label") columns`);
  for (const cells of records) {
    const url = cells[urlColumn];
    const wnid = cells[wnidColumn];
    if (url && wnid) add(wnid, url);
  }
  return byWnid;
}

/** Options as a URL-list fetch takes them (a bare string is the user agent, as before). */
function listFetcher(options: string | UrlListOptions) {
  const given = typeof options === 'string' ? { userAgent: options } : options;
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const o = { ...DEFAULTS, ...defined } as typeof DEFAULTS & UrlListOptions;
  const agent = new Agent({
    connectTimeout: o.connectTimeoutMs,
    headersTimeout: o.headersTimeoutMs,
    bodyTimeout: o.bodyTimeoutMs,
  });
  const fetchOptions = {
    dispatcher: agent,
    userAgent: o.userAgent,
    timeoutMs: o.timeoutMs,
    connectTimeoutMs: o.connectTimeoutMs,
    headersTimeoutMs: o.headersTimeoutMs,
    bodyTimeoutMs: o.bodyTimeoutMs,
    maxBytes: o.maxBytes,
    maxRedirects: o.maxRedirects,
    retries: o.retries,
    backoffMs: o.backoffMs,
    maxRetryAfterMs: o.maxRetryAfterMs,
    respectNoAi: false,
    signal: o.signal,
  };
  return {
    async text(url: string): Promise<string> {
      const fetched = await fetchList(url, fetchOptions);
      if (fetched.ok) return fetched.bytes.toString('utf8');
      const tries = fetched.attempts > 1 ? ` (${fetched.attempts} attempts)` : '';
      const answered = fetched.kind === 'http-status' || fetched.kind === 'rate-limited';
      const why = answered ? `answered ${fetched.message}` : `failed: ${fetched.message}`;
      throw new ScrapeConfigError(`url-source: ${url} ${why}${tries}`);
    },
    close: () => agent.close().catch(() => undefined),
  };
}

/**
 * The URL list of each requested class, in source order, without exact repeats. A template is
 * fetched with the scraper's timeouts, size cap and retries (`options`, or a user agent).
 */
export async function loadUrls(
  source: UrlSource,
  wnids: string[],
  options: string | UrlListOptions = {},
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  const unique = (urls: string[]) => [...new Set(urls)];
  if (source.kind === 'list') {
    const all = parseList(await readFile(source.path, 'utf8'), source.path);
    for (const wnid of wnids) result.set(wnid, unique(all.get(wnid) ?? []));
    return result;
  }
  if (source.kind === 'dir') {
    for (const wnid of wnids) {
      const file = path.join(source.path, `${wnid}.txt`);
      const text = await readFile(file, 'utf8').catch(() => {
        throw new ScrapeConfigError(`url-source: ${file} does not exist`);
      });
      result.set(wnid, unique(lines(text)));
    }
    return result;
  }
  const fetcher = listFetcher(options);
  try {
    for (const wnid of wnids) {
      const url = source.url.replaceAll('{wnid}', encodeURIComponent(wnid));
      result.set(wnid, unique(lines(await fetcher.text(url))));
    }
  } finally {
    await fetcher.close();
  }
  return result;
}
