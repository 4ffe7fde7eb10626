import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Json } from '../constructs/workload/deployment-json';
import type { InputObject } from './load-yaml';
import { sameStat } from './file-stat';

/**
 * Parsed YAML inputs kept between runs of the step driver's in-process compile (issue 14): at a
 * thousand canaries, parsing ~2,000 unchanged files was most of a one-canary tick's synth. An
 * entry is the file's JSON documents under the sha256 of its text, so a file is reparsed exactly
 * when its bytes change; the whole cache is dropped when canarykit or the yaml package changes.
 * Only files that parsed without a problem are kept, and only documents that survive a JSON round
 * trip unchanged (no `.inf`, `.nan`, -0). Line numbers for messages come from parsing the text
 * again on demand. A missing, unreadable or foreign cache file is an empty cache; it is written
 * through a temporary file, so a killed tick leaves the old one or the new one.
 */
export interface ParseCache {
  /**
   * The objects of `file` and its size in bytes, without reading it, when its stat data (`statOf`)
   * is the one recorded with the cached text, and was recorded well after the file last changed:
   * as git's index does, a file written within the clock's granularity of being recorded
   * ("racily clean") is read again, since a second write could keep its size and times.
   */
  getByStat(file: string, stat: string | undefined, reparse: () => InputObject[]): { objects: InputObject[]; bytes: number } | undefined;
  /** The objects of `file` when its text is the one cached; `stat` (statOf) is recorded with it. */
  get(file: string, text: string, reparse: () => InputObject[], stat?: string): InputObject[] | undefined;
  set(file: string, text: string, objects: readonly InputObject[], stat?: string): void;
  /** Writes the entries used or set in this run (files gone from the inputs are dropped). */
  save(): void;
}

interface CacheEntry {
  hash: string;
  docs: { index: number; json: Json }[];
  /** statOf the file when `hash` was computed from its text, with its byte size. */
  stat?: string;
  bytes?: number;
}

interface CacheFile {
  key: string;
  files: Record<string, CacheEntry>;
}

/** What invalidates every entry: this file's code (it shapes the entries), its version, and yaml's. */
function cacheKey(): string {
  const h = createHash('sha256');
  for (const file of [__filename, require.resolve('yaml/package.json'), ...['load-yaml', 'file-stat'].map((m) => path.join(__dirname, m + path.extname(__filename)))]) {
    try {
      h.update(fs.readFileSync(file));
    } catch {
      h.update(file);
    }
  }
  return h.digest('hex');
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** True when `v` comes back from JSON.stringify/parse exactly as it is. */
function jsonSafe(v: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every((x) => jsonSafe(x, depth + 1));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.entries(v as object).every(([k, x]) => k !== '__proto__' && x !== undefined && jsonSafe(x, depth + 1));
  }
  return false;
}

export function fileParseCache(cacheFile: string): ParseCache {
  const key = cacheKey();
  let stored: CacheFile['files'] = {};
  try {
    const parsed = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as CacheFile;
    if (parsed?.key === key && parsed.files && typeof parsed.files === 'object') stored = parsed.files;
  } catch {
    // No cache yet, or one cut short: parse everything.
  }
  const kept: CacheFile['files'] = {};
  let changed = false;
  const objectsOf = (file: string, entry: CacheEntry, reparse: () => InputObject[]): InputObject[] => {
    let fresh: InputObject[] | undefined;
    return entry.docs.map(({ index, json }) => ({
      origin: { file, index },
      json,
      lineOf: (fieldPath) => (fresh ??= reparse()).find((o) => o.origin.index === index)?.lineOf(fieldPath),
    }));
  };
  return {
    getByStat(file, stat, reparse) {
      const entry = stored[file];
      if (!entry || entry.stat === undefined || entry.bytes === undefined || stat === undefined || !sameStat(entry.stat, stat)) return undefined;
      kept[file] = entry;
      return { objects: objectsOf(file, entry, reparse), bytes: entry.bytes };
    },
    get(file, text, reparse, stat) {
      const entry = stored[file];
      if (!entry || entry.hash !== sha256(text)) return undefined;
      // The same text with other stat data (a checkout rewrote it, or it was racily clean): recorded anew.
      const trusted = entry.stat !== undefined && stat !== undefined && sameStat(entry.stat, stat);
      kept[file] = trusted ? entry : { ...entry, stat, bytes: Buffer.byteLength(text) };
      if (!trusted) changed = true;
      return objectsOf(file, entry, reparse);
    },
    set(file, text, objects, stat) {
      if (!objects.every((o) => jsonSafe(o.json))) return;
      // A copy: the compiler must not be able to change what is stored.
      kept[file] = { hash: sha256(text), docs: objects.map((o) => ({ index: o.origin.index, json: JSON.parse(JSON.stringify(o.json)) as Json })), stat, bytes: Buffer.byteLength(text) };
      changed = true;
    },
    save() {
      if (!changed && Object.keys(kept).length === Object.keys(stored).length) return;
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, JSON.stringify({ key, files: kept } satisfies CacheFile));
      fs.renameSync(tmp, cacheFile);
    },
  };
}
