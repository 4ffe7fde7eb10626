import * as fs from 'fs';
import type * as Yaml from 'yaml';
import { ValidationError } from './errors';

/**
 * Bounds on what canarykit reads, so a hostile or broken input ends in exit 2 naming the file, in
 * bounded time and memory, instead of a stack overflow, an out-of-memory kill or a RangeError.
 * Generous for real repositories (a ConfigMap is at most 1 MiB; Kubernetes objects nest ~20 deep).
 */
export const LIMITS = {
  /** One YAML input file, `canarykit.yaml`, a state file or a plan. */
  fileBytes: 8 * 1024 * 1024,
  /** All YAML inputs of one `compile` together. */
  totalInputBytes: 64 * 1024 * 1024,
  /** YAML documents in one file. */
  documentsPerFile: 10_000,
  /** Objects in one compilation. */
  objects: 50_000,
  /** Nesting of mappings and sequences in a document. */
  depth: 64,
  /** Alias expansions per YAML document (the `yaml` package's maxAliasCount). */
  aliases: 100,
  /** HTTP response bodies (Prometheus, webhooks, alert services, GitHub). */
  responseBytes: 1024 * 1024,
} as const;

/** `n` bytes as a short human text (`8 MiB`). */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${n} bytes`;
}

/**
 * Reads a text file of at most `max` bytes. Anything that is not a readable regular file (a folder,
 * a socket, a file too large) is a ValidationError naming `shown`; ENOENT is returned as undefined
 * so callers decide whether a missing file is fine.
 */
export function readTextFile(file: string, shown: string, max: number = LIMITS.fileBytes, fix = 'restore it from git history'): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ValidationError([{ path: shown, message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${fix}` }], `cannot read ${shown}`);
  }
  if (!stat.isFile()) throw new ValidationError([{ path: shown, message: `is not a regular file (a ${stat.isDirectory() ? 'folder' : 'special file'}); ${fix}` }], `cannot read ${shown}`);
  if (stat.size > max) throw new ValidationError([{ path: shown, message: `is ${formatBytes(stat.size)}, more than the ${formatBytes(max)} canarykit reads from one file; split it or remove what is not needed` }], `cannot read ${shown}`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ValidationError([{ path: shown, message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${fix}` }], `cannot read ${shown}`);
  }
}

/** Deepest nesting of arrays and objects in a parsed JSON value, stopping once past `limit` (iterative: no stack overflow). */
export function exceedsDepth(value: unknown, limit: number = LIMITS.depth): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/** Whether mappings/sequences nest deeper than `limit` under `root` (iterative: safe on any depth). */
export function nodeDepthExceeds(root: unknown, limit: number): boolean {
  // Loaded here, not at the top: the idle tick imports this module but parses no YAML (issue 14).
  const { isMap, isPair, isSeq } = require('yaml') as typeof Yaml;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, d] = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      if (d >= limit) return true;
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          stack.push([item.key, d + 1], [item.value, d + 1]);
        } else stack.push([item, d + 1]);
      }
    }
  }
  return false;
}

/**
 * Whether a `yaml` parse error is the parser's own stack overflow. `yaml` recurses per nesting level
 * and reports the overflow as a syntax error; at which depth it happens depends on the stack size, so
 * the depth check after parsing cannot be relied on to see it first.
 */
export function isParserStackOverflow(message: string): boolean {
  return /call stack size/i.test(message);
}
