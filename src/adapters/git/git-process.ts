import { spawn } from 'node:child_process';
import { GitCommandError } from '../../errors';
import { redactUrlCredentials } from '../../redact';

/**
 * A git process that exited non-zero, with its output (may contain credentials: redact first).
 */
export class GitFailure extends Error {
  constructor(readonly exitCode: number, readonly stdout: string, readonly stderr: string) {
    super(stderr.trim() || stdout.trim() || `git exited with ${exitCode}`);
  }
}

/** Runs git in `dir`: a non-zero exit rejects with GitFailure; git that cannot start becomes GitCommandError. */
export function execGit(dir: string, env: NodeJS.ProcessEnv, args: string[], input?: string | Buffer): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('git', args, { cwd: dir, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    // Not retried: git missing from PATH will not come back on the next attempt.
    child.on('error', (e) => reject(new GitCommandError(`git ${args[0]} failed: ${redactUrlCredentials(e.message)}`, false)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      if (code === 0) resolveRun(stdout);
      else reject(new GitFailure(code ?? 1, stdout, Buffer.concat(err).toString()));
    });
    if (input !== undefined) {
      // A git that exits early (bad input) closes its stdin; its exit code tells what happened.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
  });
}
