import * as fs from 'fs';
import * as path from 'path';
import { SCRATCH_SUFFIX, scratchPrefix } from '../../constructs/scratch';

/**
 * Telling canarykit's own leftovers in the driver's clone from somebody's work. canarykit only
 * ever writes under `outdir` and `stateDir`, plus writeFolders' scratch siblings of `outdir`;
 * it never merges, rebases, cherry-picks, reverts or bisects.
 */

/** True when repository-relative `file` is one of `folders` or inside one. */
export function isUnder(file: string, folders: readonly string[]): boolean {
  return folders.some((f) => {
    const dir = normalize(f);
    return dir === '' || file === dir || file.startsWith(`${dir}/`);
  });
}

/** A repository-relative folder as git prints paths: forward slashes, no `./`, no trailing slash; the root is ''. */
export function normalize(folder: string): string {
  return path.posix.normalize(folder.split(path.sep).join('/')).replace(/^\.\/?/, '').replace(/\/+$/, '');
}

/** Git operations canarykit never starts: one in progress is a person's, and the sync stops for it. */
const INTERRUPTED: readonly { file: string; what: string; fix: string }[] = [
  { file: 'MERGE_HEAD', what: 'a merge', fix: 'git merge --abort' },
  { file: 'rebase-merge', what: 'a rebase', fix: 'git rebase --abort' },
  { file: 'rebase-apply', what: 'a rebase or git am', fix: 'git rebase --abort (or git am --abort)' },
  { file: 'CHERRY_PICK_HEAD', what: 'a cherry-pick', fix: 'git cherry-pick --abort' },
  { file: 'REVERT_HEAD', what: 'a revert', fix: 'git revert --abort' },
  { file: 'BISECT_LOG', what: 'a bisect', fix: 'git bisect reset' },
];

/** The operation somebody left in progress in the clone, with its fix; undefined when none is. */
export function interruptedOperation(gitDir: string): { what: string; fix: string } | undefined {
  return INTERRUPTED.find((op) => fs.existsSync(path.join(gitDir, op.file)));
}

/**
 * Removes writeFolders' scratch folders next to `outdir` (`.dist.staging-<pid>`, `.dist.old-<pid>`):
 * a synth killed between its two renames leaves them, and they are never tracked.
 */
export function removeScratchFolders(workTree: string, outdir: string): string[] {
  const abs = path.resolve(workTree, outdir);
  const parent = path.dirname(abs);
  const base = scratchPrefix(abs);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(base) || !SCRATCH_SUFFIX.test(name.slice(base.length))) continue;
    const full = path.join(parent, name);
    if (!fs.lstatSync(full).isDirectory()) continue;
    fs.rmSync(full, { recursive: true, force: true });
    removed.push(path.relative(workTree, full));
  }
  return removed;
}
