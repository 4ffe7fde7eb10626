import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli';

export const FLAGGER_FIXTURES = path.join(__dirname, '..', 'fixtures', 'flagger');

/** Every entry under `root` (files with a content hash, folders, symlinks with their target), `.git` included. */
export function snapshotTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const abs = path.join(dir, e.name);
      const rel = path.relative(root, abs);
      if (e.isSymbolicLink()) out.set(rel, `link -> ${fs.readlinkSync(abs)}`);
      else if (e.isDirectory()) {
        out.set(rel, 'dir');
        walk(abs);
      } else out.set(rel, `file ${createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

export function tempDir(prefix = 'canarykit-hostile-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Runs the CLI in-process in `cwd` (the forks pool allows chdir), capturing output. Returns the
 * exit code, stdout and stderr.
 */
export async function cliIn(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const before = process.cwd();
  process.chdir(cwd);
  try {
    const code = await main(['node', 'canarykit', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.chdir(before);
  }
}
