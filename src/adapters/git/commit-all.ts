import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GitCommandError } from '../../errors';
import { FileChange, StreamCommit, assignPaths, cleanMessage, fastImportStream, parseMarks, parseStatusZ, rawDate } from './batch-commit';
import { gitDirOf } from './tick-lock';
import type { CommitRequest, GitIdentity } from './workspace';

/**
 * A tick's commits in one `git fast-import` (batch-commit.ts builds the stream): one `git status`
 * finds what changed, each commit records only the changed files under its own paths, and the
 * branch moves once, by compare-and-swap. Per-canary `git add`/`commit` statted every tracked file
 * four times per canary (issue 14).
 */

/** What the batch needs of the workspace. */
export interface BatchGit {
  readonly dir: string;
  readonly branch: string;
  readonly author: GitIdentity;
  readonly committer: GitIdentity;
  run(args: string[], input?: string | Buffer): Promise<string>;
  head(): Promise<string>;
}

export async function commitAll(git: BatchGit, changes: readonly CommitRequest[]): Promise<(string | null)[]> {
  if (changes.length === 0) return [];
  for (const c of changes) if (c.paths.length === 0) throw new Error('commit needs at least one path');
  const parent = await git.head();
  const all = [...new Set(changes.flatMap((c) => c.paths))];
  // One status for the whole tick: the index's stat data makes it cheap at any fleet size.
  const changed = parseStatusZ(await git.run(['status', '--porcelain=v2', '-z', '--untracked-files=all', '--no-renames', '--', ...all]));
  const perChange = assignPaths(changed, changes);
  const now = new Date();
  const commits: { index: number; commit: StreamCommit }[] = [];
  perChange.forEach((paths, index) => {
    if (paths.length === 0) return;
    const author = git.author;
    commits.push({
      index,
      commit: {
        message: cleanMessage(changes[index].message),
        files: paths.map((p) => fileChange(git.dir, p)),
        // As `git commit --date @<s> +0000`: the stage's time is the driver's clock, in UTC.
        author: { ...author, when: changes[index].date ? rawDate(changes[index].date!) : rawDate(now, -now.getTimezoneOffset()) },
        committer: { ...git.committer, when: rawDate(now, -now.getTimezoneOffset()) },
      },
    });
  });
  const result: (string | null)[] = changes.map(() => null);
  if (commits.length === 0) return result;
  const gitDir = gitDirOf(git.dir);
  const marksFile = join(gitDir, `canarykit-marks-${process.pid}`);
  // fast-import writes to a scratch ref; the branch itself moves only by the compare-and-swap below.
  const scratch = `refs/canarykit/commit-${process.pid}`;
  try {
    await git.run(
      ['fast-import', '--quiet', '--force', '--done', '--date-format=raw', `--export-marks=${marksFile}`],
      fastImportStream(scratch, parent, commits.map((c) => c.commit)),
    );
    const marks = parseMarks(readFileSync(marksFile, 'utf8'));
    commits.forEach((c, i) => (result[c.index] = marks.get(i + 1) ?? null));
    const tip = marks.get(commits.length);
    if (!tip) throw new GitCommandError(`git fast-import in ${git.dir} reported no commit for the tick`);
    // Fails if the branch moved since `parent` was read (it cannot while the tick holds the clone).
    await git.run(['update-ref', '--stdin'], `start\nupdate refs/heads/${git.branch} ${tip} ${parent}\ndelete ${scratch}\ncommit\n`);
  } finally {
    rmSync(marksFile, { force: true });
  }
  // The index follows the branch. Only the committed paths changed, and each is on disk as it was
  // committed, so only their entries are updated: `reset --mixed` would refresh the stat data of
  // every tracked file (~50 ms at 1,000 canaries, issue 14).
  const committed = [...new Set(commits.flatMap((c) => c.commit.files.map((f) => f.path)))];
  await git.run(['update-index', '--add', '--remove', '-z', '--stdin'], committed.map((p) => `${p}\0`).join(''));
  return result;
}

/** commitAll's scratch ref and marks file, left by a tick killed while it built its commits. */
export async function removeBatchLeftovers(git: BatchGit): Promise<void> {
  const refs = (await git.run(['for-each-ref', '--format=%(refname)', 'refs/canarykit/'])).split('\n').filter((r) => r.startsWith('refs/canarykit/commit-'));
  if (refs.length > 0) await git.run(['update-ref', '--stdin'], refs.map((r) => `delete ${r}\n`).join(''));
  const gitDir = gitDirOf(git.dir);
  for (const name of readdirSync(gitDir)) if (/^canarykit-marks-\d+$/.test(name)) rmSync(join(gitDir, name), { force: true });
  // The in-process compile's parse cache, cut short while being replaced (src/compile/parse-cache.ts).
  const own = join(gitDir, 'canarykit');
  if (existsSync(own)) for (const name of readdirSync(own)) if (/\.tmp-\d+$/.test(name)) rmSync(join(own, name), { force: true });
}

/** What a commit records for `path` (repository-relative) as it is on disk now. */
function fileChange(dir: string, path: string): FileChange {
  const abs = resolve(dir, path);
  let stat;
  try {
    stat = lstatSync(abs);
  } catch {
    return { path, deleted: true };
  }
  if (stat.isSymbolicLink()) return { path, content: Buffer.from(readlinkSync(abs)), mode: '120000' };
  return { path, content: readFileSync(abs), mode: stat.mode & 0o111 ? '100755' : '100644' };
}
