import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ScrapeConfigError } from './errors';

export interface ClassInfo {
  wnid: string;
  name: string;
  /** ILSVRC-2012 index, when the class is one of its 1,000. */
  index?: number;
  /** URL counts in the original project's `imagenet_class_info.json` format, when known. */
  urlCount?: number;
  flickrUrlCount?: number;
}

const WNID = /^n\d{8}$/;

/** The 1,000 ILSVRC-2012 classes (index, WordNet id, name), shipped with the package. */
export function ilsvrc2012Classes(): Map<string, ClassInfo> {
  const candidates = [
    path.join(__dirname, '..', 'data', 'ilsvrc2012-classes.tsv'),
    path.join(__dirname, 'data', 'ilsvrc2012-classes.tsv'),
  ];
  let text: string | undefined;
  for (const file of candidates) {
    try {
      text = readFileSync(file, 'utf8');
      break;
    } catch {
      // try the next location
    }
  }
  if (!text) throw new Error(`ILSVRC-2012 class table missing (looked in ${candidates.join(', ')})`);
  const table = new Map<string, ClassInfo>();
  for (const line of text.trim().split('\n').slice(1)) {
    const [index, wnid, name] = line.split('\t');
    if (wnid && name) table.set(wnid, { wnid, name, index: Number(index) });
  }
  return table;
}

/** Reads the original project's `imagenet_class_info.json`: `{ "<wnid>": { img_url_count, flickr_img_url_count, class_name } }`. */
export function parseClassInfo(json: string, source: string): Map<string, ClassInfo> {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ScrapeConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new ScrapeConfigError(`${source}: expected an object keyed by WordNet id`);
  const table = new Map<string, ClassInfo>();
  for (const [wnid, value] of Object.entries(data as Record<string, Record<string, unknown>>)) {
    if (!WNID.test(wnid) || typeof value?.class_name !== 'string') {
      throw new ScrapeConfigError(
        `${source}: entry ${JSON.stringify(wnid)} needs a WordNet id key (n01234567) and a class_name`,
      );
    }
    table.set(wnid, {
      wnid,
      name: value.class_name,
      urlCount: typeof value.img_url_count === 'number' ? value.img_url_count : undefined,
      flickrUrlCount: typeof value.flickr_img_url_count === 'number' ? value.flickr_img_url_count : undefined,
    });
  }
  return table;
}

export interface ClassSelection {
  /** Explicit WordNet ids, validated against the table. */
  wnids?: string[];
  /** Or this many random classes… */
  count?: number;
  /** …among those with at least this many URLs (default: `minUrlsPerClass(perClass, flickrOnly)`). */
  minUrls?: number;
  /**
   * Images wanted per class: with `count` and a table that knows URL counts (the original project's
   * `imagenet_class_info.json`), it sets the default `minUrls`. The shipped ILSVRC-2012 table
   * has no counts, so it is not filtered.
   */
  perClass?: number;
  /** Count Flickr URLs only when choosing by URL count. */
  flickrOnly?: boolean;
  seed?: number;
}

/**
 * The seed's rule for a random class: enough URLs for `perClass` images, given that some fail —
 * `perClass / 0.9` Flickr URLs with `flickrOnly`, `perClass / 0.8` URLs in all otherwise.
 */
export function minUrlsPerClass(perClass: number, flickrOnly = false): number {
  return Math.ceil(perClass / (flickrOnly ? 0.9 : 0.8));
}

const knowsUrlCounts = (table: Map<string, ClassInfo>) =>
  [...table.values()].some((c) => c.urlCount !== undefined || c.flickrUrlCount !== undefined);

/** The URL minimum a selection applies: its own, else the original project's rule where the table has counts. */
function minUrlsOf(table: Map<string, ClassInfo>, selection: ClassSelection): number | undefined {
  if (selection.minUrls !== undefined) return selection.minUrls;
  if (selection.perClass === undefined || !knowsUrlCounts(table)) return undefined;
  return minUrlsPerClass(selection.perClass, selection.flickrOnly);
}

/** Picks classes as the original project did: explicit ids, or N random ones with enough URLs (seeded). */
export function selectClasses(table: Map<string, ClassInfo>, selection: ClassSelection): ClassInfo[] {
  if (selection.wnids && selection.wnids.length > 0) {
    return selection.wnids.map((wnid) => {
      const info = table.get(wnid);
      if (!info)
        throw new ScrapeConfigError(
          `wnids: ${wnid} is not in the class table (expected a WordNet id such as n01440764)`,
        );
      return info;
    });
  }
  if (!selection.count || selection.count < 1)
    throw new ScrapeConfigError('classes: give wnids or a positive count of random classes');
  const minUrls = minUrlsOf(table, selection);
  const eligible = [...table.values()]
    .filter((c) => {
      if (!minUrls) return true;
      const urls = selection.flickrOnly ? c.flickrUrlCount : c.urlCount;
      return urls !== undefined && urls >= minUrls;
    })
    .sort((a, b) => (a.wnid < b.wnid ? -1 : 1));
  if (eligible.length < selection.count) {
    throw new ScrapeConfigError(
      `classes: asked for ${selection.count} classes, only ${eligible.length} have at least ${minUrls ?? 0} URLs`,
    );
  }
  return shuffle(eligible, selection.seed).slice(0, selection.count);
}

/** A seeded Fisher–Yates shuffle (xorshift32), in place. */
function shuffle(items: ClassInfo[], seed = 0): ClassInfo[] {
  let state = seed >>> 0 || 0x9e3779b9;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as ClassInfo, items[i] as ClassInfo];
  }
  return items;
}
