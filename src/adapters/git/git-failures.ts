import { ConfigError, GitCommandError, PushRejectedError } from '../../errors';

/**
 * How a git command that talks to the remote failed, decided in one place from git's output
 * (LC_ALL=C, so the English text is stable). The driver re-derives the tick on PushRejectedError
 * only: every rejection caused by the remote moving must be one.
 */
export type RemoteOperation = 'fetch' | 'push';

/**
 * Rejections meaning "the remote branch is not where we last saw it":
 * - `[rejected] (fetch first | non-fast-forward | stale info)`: git saw it before sending;
 * - `[remote rejected] ... cannot lock ref '<ref>': is at X but expected Y`: another push won the
 *   race on the server after our objects were sent (receive-pack's compare-and-swap);
 * - `cannot lock ref ... Unable to create '<ref>.lock': File exists`: another push is updating the
 *   ref at this very moment;
 * - `[remote rejected] (reference already exists | incorrect old value provided)`: the same race
 *   when the ref is created, or under --atomic.
 */
const REMOTE_MOVED = [
  /\[rejected\][^\n]*\((fetch first|non-fast-forward|stale info|already exists)\)/,
  /cannot lock ref '[^']*': is at [0-9a-f]+ but expected [0-9a-f]+/,
  /cannot lock ref '[^']*': (unable to create|.*file exists)/i,
  /\[remote rejected\][^\n]*\((reference already exists|incorrect old value provided)\)/,
];

/**
 * The typed error for a failed fetch or push to `target` (`<remote>/<branch>`). `text` is git's
 * stderr and stdout with credentials already redacted (src/adapters/git/git.ts redactCredentials).
 */
export function classifyRemoteFailure(what: RemoteOperation, target: string, text: string): Error {
  const detail = summarize(text);
  if (what === 'push' && REMOTE_MOVED.some((re) => re.test(text))) {
    return new PushRejectedError(`push to ${target} rejected: the remote branch moved since the last fetch (${detail})`);
  }
  if (what === 'push' && /\[remote rejected\]/.test(text)) {
    return new GitCommandError(`push to ${target} refused by the remote: ${detail}`, false);
  }
  if (/couldn't find remote ref/i.test(text)) {
    return new ConfigError(`branch ${target} does not exist on the remote; check the configured branch (${detail})`);
  }
  if (/authentication failed|could not read (username|password)|permission denied \(publickey/i.test(text)) {
    return new ConfigError(`git ${what} of ${target}: the remote refused our credentials (${detail})`);
  }
  return new GitCommandError(`git ${what} of ${target} failed: ${detail}`);
}

/** The informative lines of git's output, without hints, joined on one line. */
export function summarize(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('hint:') && l !== 'Done' && !l.startsWith('To '));
  return lines.join('; ').slice(0, 500);
}
