import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageVersion } from '../version';

/**
 * canarykit.yaml parsed once per text (issue 14): every command parses it, and loading the yaml
 * package was ~60 ms of an idle tick that otherwise reads no YAML. The validated result of a text
 * that parsed is kept in `.git/canarykit/config-cache.json` (next to the clone's other caches), keyed
 * by a sha256 of the canarykit version, the name the errors would show and the text. A text that
 * fails is parsed again every time, so its errors are exactly the parser's. Only results that JSON
 * gives back unchanged are kept (plain objects, arrays, strings, booleans, null, finite numbers other
 * than -0; no undefined anywhere). A missing or broken cache file costs one parse, nothing else.
 */

const MAX_ENTRIES = 8;

interface CacheFile {
  readonly version: 1;
  /** key -> parsed config, most recent first */
  readonly entries: Array<[string, unknown]>;
}

let version: string | undefined;

/**
 * `parse(text, where)`, from the cache when this text parsed before. `check` (which may throw) runs
 * on the result either way, before anything is written.
 */
export function cachedParse<T>(repoDir: string, text: string, where: string, parse: (text: string, where: string) => T, check: (value: T) => void = () => undefined): T {
  const gitDir = path.join(repoDir, '.git');
  const file = path.join(gitDir, 'canarykit', 'config-cache.json');
  const key = createHash('sha256').update(`${(version ??= packageVersion(__dirname))}\0${where}\0${text}`).digest('hex');
  const entries = readEntries(file);
  const hit = entries.find(([k]) => k === key);
  if (hit) {
    check(hit[1] as T);
    return hit[1] as T;
  }
  const parsed = parse(text, where);
  check(parsed);
  if (jsonSafe(parsed)) {
    try {
      if (fs.statSync(gitDir).isDirectory()) {
        const next: CacheFile = { version: 1, entries: [[key, parsed] as [string, unknown], ...entries].slice(0, MAX_ENTRIES) };
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.tmp-${process.pid}`;
        fs.writeFileSync(tmp, `${JSON.stringify(next)}\n`);
        fs.renameSync(tmp, file);
      }
    } catch {
      // no cache: the next command parses again
    }
  }
  return parsed;
}

function readEntries(file: string): Array<[string, unknown]> {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CacheFile> | null;
    if (!parsed || parsed.version !== 1 || !Array.isArray(parsed.entries)) return [];
    return parsed.entries.filter((e): e is [string, unknown] => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && jsonSafe(e[1]) && typeof e[1] === 'object' && e[1] !== null);
  } catch {
    return [];
  }
}

/** Whether JSON.parse(JSON.stringify(v)) is v again, key for key. */
export function jsonSafe(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!(i in v) || !jsonSafe(v[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  if (Object.getOwnPropertySymbols(v).length > 0) return false;
  return Object.keys(v).every((k) => k !== '__proto__' && jsonSafe((v as Record<string, unknown>)[k]));
}
