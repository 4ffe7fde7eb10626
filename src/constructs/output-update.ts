import * as fs from 'fs';
import * as path from 'path';
import { OutputFolder } from './output';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT } from './output-dir';
import { scratchFolder } from './scratch';

/**
 * Updating an existing output folder in place of replacing it (writeFolders, canary-app.ts): with
 * a thousand canaries, rewriting ~11,000 files on every synth cost half of compile's time and made
 * git re-hash them all. Only folders whose files changed are replaced, each in one rename from the
 * staging folder, where the files that did not change are hard links to the current ones (same
 * inode, same mtime: never rewritten); folders and files that are gone are removed. Everything is
 * written to the staging folder before the first rename, so a failed write leaves the output as it
 * was. A process killed between two renames leaves whole folders, old or new, never a half-written
 * one (the step driver discards such an output with the rest of a killed tick).
 */

/** What an update did, for tests and the bench. */
export interface OutputUpdate {
  /** Folders replaced (`<namespace>/<name>` or chart folders), sorted. */
  readonly replaced: string[];
  /** Folders removed, sorted. */
  readonly removed: string[];
  /** Files written with new content (not counting hard links to unchanged files). */
  readonly written: number;
}

/** True when no folder lies inside another: then each folder can be swapped on its own. */
export function foldersAreDisjoint(folders: readonly OutputFolder[], kept: readonly string[] = []): boolean {
  const dirs = new Set([...folders.map((f) => f.dir), ...kept]);
  if (dirs.size !== folders.length + kept.length) return false;
  for (const dir of dirs) {
    for (let p = path.posix.dirname(dir); p !== '.'; p = path.posix.dirname(p)) if (dirs.has(p)) return false;
  }
  return true;
}

/**
 * Files directly in each folder of `abs` that holds any, by relative folder; `''` is `abs` itself.
 * Folders in `skip` (kept as they are) are not listed: nothing of theirs is compared or removed.
 */
function existingFolders(abs: string, skip: ReadonlySet<string> = new Set()): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (rel: string): void => {
    const files: string[] = [];
    for (const e of fs.readdirSync(path.join(abs, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (!e.isDirectory()) files.push(e.name);
      else if (!skip.has(child)) walk(child);
    }
    if (files.length > 0) found.set(rel, files);
  };
  walk('');
  return found;
}

/** Files directly in `dir` (none when it does not exist). */
function listFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

function sameContent(file: string, content: string): boolean {
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size !== Buffer.byteLength(content)) return false;
    return fs.readFileSync(file).equals(Buffer.from(content));
  } catch {
    return false;
  }
}

/**
 * `abs` must exist, and `folders` be disjoint (foldersAreDisjoint). `keep`: folders left exactly as
 * they are, neither compared, replaced nor removed (compile's record found them up to date).
 */
export function updateOutput(abs: string, folders: readonly OutputFolder[], opts: { partial?: boolean; keep?: readonly string[] } = {}): OutputUpdate {
  const staging = scratchFolder(abs, 'staging');
  const old = scratchFolder(abs, 'old');
  // A partial update looks at its own folders only: nothing else is compared, replaced or removed.
  const existing = opts.partial ? new Map(folders.map((f) => [f.dir, listFiles(path.join(abs, f.dir))])) : existingFolders(abs, new Set(opts.keep));
  const wanted = new Set([...folders.map((f) => f.dir), ...(opts.keep ?? [])]);
  const changed: OutputFolder[] = [];
  for (const folder of folders) {
    const dir = path.join(abs, folder.dir);
    const current = existing.get(folder.dir) ?? [];
    const unchanged =
      fs.existsSync(dir) &&
      current.length === folder.files.size &&
      // Sub-folders (an earlier output's) would be dropped by a swap: a folder holding any is replaced.
      !fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory()) &&
      [...folder.files].every(([name, content]) => sameContent(path.join(dir, name), content));
    if (!unchanged) changed.push(folder);
  }
  let written = 0;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(old, { recursive: true, force: true });
  try {
    fs.mkdirSync(staging, { recursive: true });
    for (const folder of changed) {
      const from = path.join(abs, folder.dir);
      const to = path.join(staging, folder.dir);
      fs.mkdirSync(to, { recursive: true });
      for (const [name, content] of folder.files) {
        if (sameContent(path.join(from, name), content) && tryLink(path.join(from, name), path.join(to, name))) continue;
        fs.writeFileSync(path.join(to, name), content);
        written++;
      }
    }
    if (!opts.partial && !sameContent(path.join(abs, OUTPUT_MARKER), OUTPUT_MARKER_TEXT)) {
      fs.writeFileSync(path.join(staging, OUTPUT_MARKER), OUTPUT_MARKER_TEXT);
      written++;
    }
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  // From here on only renames and removals.
  const moveAside = (rel: string): void => {
    const target = path.join(old, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.renameSync(path.join(abs, rel), target);
  };
  for (const folder of changed) {
    const dest = path.join(abs, folder.dir);
    if (fs.existsSync(dest)) moveAside(folder.dir);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(path.join(staging, folder.dir), dest);
  }
  if (fs.existsSync(path.join(staging, OUTPUT_MARKER))) fs.renameSync(path.join(staging, OUTPUT_MARKER), path.join(abs, OUTPUT_MARKER));
  const removed: string[] = [];
  if (opts.partial) {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.rmSync(old, { recursive: true, force: true });
    return { replaced: changed.map((f) => f.dir).sort(), removed, written };
  }
  const under = (rel: string, dirs: Iterable<string>): boolean => [...dirs].some((d) => rel.startsWith(`${d}/`));
  // Parents first, so a folder inside one already moved aside is skipped with it.
  for (const [rel, files] of [...existing].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (wanted.has(rel) || under(rel, wanted) || under(rel, removed)) continue;
    if (rel === '') {
      // Only the marker belongs at the top.
      for (const name of files) if (name !== OUTPUT_MARKER) fs.rmSync(path.join(abs, name), { force: true });
      continue;
    }
    // A gone folder (a removed canary), or a folder above a wanted one holding stray files.
    if (![...wanted].some((w) => w.startsWith(`${rel}/`))) {
      moveAside(rel);
      removed.push(rel);
    } else {
      for (const name of files) fs.rmSync(path.join(abs, rel, name), { force: true });
    }
  }
  removeEmptyFolders(abs, new Set(opts.keep));
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(old, { recursive: true, force: true });
  return { replaced: changed.map((f) => f.dir).sort(), removed: removed.sort(), written };
}

/** A hard link, or false where the file system refuses one (then the file is written). */
function tryLink(from: string, to: string): boolean {
  try {
    fs.linkSync(from, to);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes folders left empty under `abs` (a removed canary's namespace folder), never `abs`; kept
 * folders (relative paths in `kept`) hold files and are not looked into.
 */
function removeEmptyFolders(abs: string, kept: ReadonlySet<string> = new Set()): void {
  const prune = (dir: string, rel: string): boolean => {
    let empty = true;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && !kept.has(child) && prune(path.join(dir, e.name), child)) fs.rmdirSync(path.join(dir, e.name));
      else empty = false;
    }
    return empty;
  };
  prune(abs, '');
}
