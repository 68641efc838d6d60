import path from 'node:path';

/**
 * A class name made safe as one folder name: no separators, no `..`, no control characters, no
 * leading dots, bounded length. Distinct wnids stay distinct through the wnid fallback.
 */
export function safeFolderName(name: string, wnid: string): string {
  const cleaned = name
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '')
    .slice(0, 120)
    .trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? wnid : cleaned;
}

/** `<wnid>_<first 16 hex of sha256>.<ext>`: no collisions between different images, no URL in it. */
export function imageFileName(wnid: string, sha256: string, ext: string): string {
  return `${wnid}_${sha256.slice(0, 16)}.${ext}`;
}

export const IMAGE_FILE = /^n\d{8}_[0-9a-f]{16}\.(jpg|png|gif|webp)$/;

/** The run's bookkeeping under `<out>/.scrape/`. */
export interface StateLayout {
  root: string;
  /** `<wnid>.jsonl` per class. */
  manifests: string;
  /** Temp files of atomic writes; whatever is left here at start is a killed run's. */
  temp: string;
  /** Class → folder, kept across runs. */
  folders: string;
  stats: string;
  debugCsv: string;
  /** Held by the run using the folder (pid, host, start time). */
  lock: string;
  manifest(wnid: string): string;
  /** The temp file of a class's `index`-th pending URL. */
  tempFile(wnid: string, index: number): string;
}

export function stateLayout(out: string): StateLayout {
  const root = path.join(out, '.scrape');
  const manifests = path.join(root, 'manifests');
  const temp = path.join(root, 'tmp');
  return {
    root,
    manifests,
    temp,
    folders: path.join(root, 'folders.json'),
    stats: path.join(root, 'stats.json'),
    debugCsv: path.join(root, 'debug.csv'),
    lock: path.join(root, 'lock'),
    manifest: (wnid) => path.join(manifests, `${wnid}.jsonl`),
    tempFile: (wnid, index) => path.join(temp, `${wnid}-${index}-${process.pid}`),
  };
}
