import * as fs from 'fs';

/**
 * A file's stat data as the parse cache records it (issue 14): inputs unchanged since they were
 * read are answered without reading them, by git's racy-clean rule.
 */

/** Seconds a file's times must lie before the moment its stat data was recorded for that data to be trusted. */
const RACY_SECONDS = 2n;

/**
 * A file's identity and change times (device, inode, size, mtime and ctime in nanoseconds) and the
 * moment they were taken, or undefined when it cannot be stat'ed or is not a regular file.
 */
export function statOf(file: string): string | undefined {
  const s = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!s || !s.isFile()) return undefined;
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}@${BigInt(Date.now()) * 1_000_000n}`;
}

/** Whether two statOf results name the same unchanged file, the first taken well after its last change. */
export function sameStat(recorded: string, now: string): boolean {
  const [id, at] = recorded.split('@');
  if (id !== now.split('@')[0]) return false;
  const parts = id.split(':');
  const newest = BigInt(parts[3]) > BigInt(parts[4]) ? BigInt(parts[3]) : BigInt(parts[4]);
  return BigInt(at) - newest >= RACY_SECONDS * 1_000_000_000n;
}
