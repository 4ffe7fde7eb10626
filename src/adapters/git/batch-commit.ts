import { normalize } from './clone-leftovers';

/**
 * A tick's commits as one `git fast-import` stream (see GitWorkspace.commitAll). Committing per
 * canary with `git add`/`status`/`commit` stats every tracked file four times per canary, so
 * `step --all` grew quadratically with the fleet; here one `git status` finds what changed, each
 * commit records only the changed files under its own paths, and the branch moves once.
 */

/** A file a commit records: new content, or deleted. */
export type FileChange = { path: string; content: Buffer; mode: '100644' | '100755' | '120000' } | { path: string; deleted: true };

/** One commit of the stream, in order; each is the parent of the next. */
export interface StreamCommit {
  message: string;
  files: readonly FileChange[];
  /** Seconds since the epoch and a `+hhmm` offset. */
  author: { name: string; email: string; when: string };
  committer: { name: string; email: string; when: string };
}

/**
 * Paths `git status --porcelain=v2 -z --untracked-files=all --no-renames` reports as changed
 * (against HEAD, in the index or the work tree) or untracked. Ignored files are not reported, so,
 * as with `git add --all`, they are never committed.
 */
export function parseStatusZ(out: string): string[] {
  const paths: string[] = [];
  for (const record of out.split('\0')) {
    if (!record || record.startsWith('#')) continue;
    if (record.startsWith('? ')) paths.push(record.slice(2));
    // Ordinary entries: 8 fields before the path, unmerged ones 10 (paths may hold spaces).
    else if (record.startsWith('1 ')) paths.push(record.split(' ').slice(8).join(' '));
    else if (record.startsWith('u ')) paths.push(record.split(' ').slice(10).join(' '));
  }
  return paths;
}

/**
 * Splits the changed paths among the requests in order: each takes the not yet taken paths under
 * its own `paths`, so a later request (the sync commit of the output folder) gets what is left.
 * Linear in the changed paths times their depth: a tick of a thousand canaries has a thousand
 * requests and ~11,000 changed files.
 */
export function assignPaths(changed: readonly string[], requests: readonly { paths: readonly string[] }[]): string[][] {
  // The first request naming each folder or file ('' is the repository root).
  const owner = new Map<string, number>();
  requests.forEach((r, i) => {
    for (const p of r.paths) {
      const key = normalize(p);
      if (!owner.has(key)) owner.set(key, i);
    }
  });
  const out: string[][] = requests.map(() => []);
  for (const file of changed) {
    let best: number | undefined;
    for (let dir = file; ; dir = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '') {
      const i = owner.get(dir);
      if (i !== undefined && (best === undefined || i < best)) best = i;
      if (dir === '') break;
    }
    if (best !== undefined) out[best].push(file);
  }
  return out;
}

/**
 * git commit's default clean-up of a message given with `-m` (`whitespace`): trailing whitespace
 * removed from every line, runs of empty lines collapsed to one, none at the start or the end, and
 * a final newline.
 */
export function cleanMessage(message: string): string {
  const lines = message.split('\n').map((l) => l.replace(/\s+$/, ''));
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** `<seconds> <+hhmm>` of `date` at a fixed offset in minutes east of UTC. */
export function rawDate(date: Date, offsetMinutes = 0): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${Math.floor(date.getTime() / 1000)} ${sign}${hhmm}`;
}

/** A path as fast-import reads it: C-quoted when it holds a quote, a backslash or a control character. */
function quotePath(p: string): string {
  if (!/["\\\x00-\x1f\x7f]/.test(p) && !p.startsWith('"')) return p;
  return `"${p.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)}"`;
}

/**
 * The fast-import stream: commit i gets mark `:i+1`, the first has `parent` as parent, every one
 * is written to `ref`. Inline data, so nothing but the stream is needed.
 */
export function fastImportStream(ref: string, parent: string, commits: readonly StreamCommit[]): Buffer {
  const parts: Buffer[] = [];
  const text = (s: string): void => {
    parts.push(Buffer.from(s));
  };
  commits.forEach((c, i) => {
    const message = Buffer.from(c.message);
    text(`commit ${ref}\nmark :${i + 1}\n`);
    text(`author ${c.author.name} <${c.author.email}> ${c.author.when}\n`);
    text(`committer ${c.committer.name} <${c.committer.email}> ${c.committer.when}\n`);
    text(`data ${message.length}\n`);
    parts.push(message);
    text('\n');
    if (i === 0) text(`from ${parent}\n`);
    for (const f of c.files) {
      if ('deleted' in f) text(`D ${quotePath(f.path)}\n`);
      else {
        text(`M ${f.mode} inline ${quotePath(f.path)}\ndata ${f.content.length}\n`);
        parts.push(f.content);
        text('\n');
      }
    }
    text('\n');
  });
  text('done\n');
  return Buffer.concat(parts);
}

/** Shas by mark from `--export-marks` output (`:<mark> <sha>` lines). */
export function parseMarks(text: string): Map<number, string> {
  const marks = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^:(\d+) ([0-9a-f]{40,64})$/.exec(line.trim());
    if (m) marks.set(Number(m[1]), m[2]);
  }
  return marks;
}
