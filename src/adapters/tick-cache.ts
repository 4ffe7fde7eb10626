import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Where the driver remembers when it last ran a due tick that committed nothing (a closed gate, a
 * readiness wait), so those ticks keep Flagger's cadence of one per analysis interval without a
 * commit each time. It lives in the clone's git directory (`.git/canarykit/last-ticks.json`): never
 * committed, never in the work tree, outside outdir and stateDir. A fresh clone or a lost file
 * costs at most one extra analysis per canary; a committed stage makes the entry obsolete (it is
 * ignored when older than the state's lastTransitionTime).
 */
export interface TickCache {
  /** `<namespace>/<name>` -> RFC 3339 time of the last quiet tick. */
  read(): Record<string, string>;
  write(entries: Record<string, string>): void;
}

/** The cache of the clone at `repoDir`; a no-op when the clone has no `.git` directory. */
export function fileTickCache(repoDir: string): TickCache {
  const gitDir = path.join(repoDir, '.git');
  const file = path.join(gitDir, 'canarykit', 'last-ticks.json');
  const usable = (): boolean => {
    try {
      return fs.statSync(gitDir).isDirectory();
    } catch {
      return false;
    }
  };
  return {
    read() {
      try {
        const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
        return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
      } catch {
        return {}; // missing or unreadable: at most one extra tick
      }
    },
    write(entries) {
      if (!usable()) return;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`);
      fs.renameSync(tmp, file);
    },
  };
}
