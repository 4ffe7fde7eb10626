import * as fs from 'fs';
import * as path from 'path';
import { Problem, ValidationError } from '../errors';
import { PLAN_API_VERSION, PLAN_FILE } from '../model/plan';

/**
 * The owner of where synth and `compile` may write. Both replace the output folder as a whole, so
 * a wrong `-o` would delete whatever is there: the rules below refuse every folder canarykit did
 * not write itself, before anything is written.
 */

/** File canarykit keeps at the top of every output folder it writes: the proof that it may replace it. */
export const OUTPUT_MARKER = '.canarykit-output';

export const OUTPUT_MARKER_TEXT =
  'This folder is written by canarykit (synth or compile) and replaced as a whole on every run.\n' +
  'Do not keep other files here. Delete this file only together with the folder.\n';

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** True when `child` is `parent` or inside it. */
function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface OutputDirOptions {
  /** How the user named the folder (`-o dist`, `outdir`), for messages. */
  readonly shownAs?: string;
  /** Paths the run reads (compile's `-f`): never inside the output folder. */
  readonly inputs?: readonly string[];
  /** The working directory. @default process.cwd() */
  readonly cwd?: string;
}

/** Why `outdir` must not be replaced, or an empty list when canarykit may write it. */
export function outputDirProblems(outdir: string, opts: OutputDirOptions = {}): Problem[] {
  const shown = opts.shownAs ?? outdir;
  const abs = path.resolve(opts.cwd ?? process.cwd(), outdir);
  const real = realOrResolved(abs);
  const cwd = realOrResolved(opts.cwd ?? process.cwd());
  const refuse = (why: string): Problem[] => [{ path: shown, message: `${why}; canarykit replaces its output folder as a whole, so it only writes a new folder or one it wrote before (with a ${OUTPUT_MARKER} file). Choose another folder, e.g. -o dist` }];
  let lstat: fs.Stats | undefined;
  try {
    lstat = fs.lstatSync(abs);
  } catch {
    lstat = undefined;
  }
  if (lstat?.isSymbolicLink()) return refuse(`${abs} is a symbolic link`);
  if (lstat && !lstat.isDirectory()) return refuse(`${abs} is a file, not a folder`);
  if (isWithin(cwd, real)) return refuse(real === cwd ? `${abs} is the working directory` : `${abs} holds the working directory`);
  if (path.dirname(real) === real) return refuse(`${abs} is the file system root`);
  for (const input of opts.inputs ?? []) {
    const inputAbs = realOrResolved(path.resolve(opts.cwd ?? process.cwd(), input));
    if (isWithin(inputAbs, real)) return refuse(`${abs} holds the input ${input}`);
    if (isWithin(real, inputAbs)) return refuse(`${abs} is inside the input ${input}, so the next compile would read its own output`);
  }
  if (!lstat) return [];
  if (fs.existsSync(path.join(abs, '.git'))) return refuse(`${abs} is the root of a git work tree`);
  const entries = fs.readdirSync(abs);
  if (entries.length > 0 && !entries.includes(OUTPUT_MARKER) && !isEarlierOutput(abs)) {
    return refuse(`${abs} holds files canarykit did not write (no ${OUTPUT_MARKER} and no canary.plan.json of canarykit)`);
  }
  return [];
}

/**
 * Output of a canarykit without the marker, or a checkout where the untracked marker was cleaned
 * (pull-request mode commits canary folders only): nothing but `.yaml`/`.json` files, and at least
 * one `<namespace>/<name>/canary.plan.json` that is a canarykit AnalysisPlan. A folder of the
 * user's own manifests (a Flux tree, the inputs) has no such plan, so it is never taken for output.
 */
function isEarlierOutput(abs: string): boolean {
  let plans = 0;
  const stack: Array<[string, number]> = [[abs, 0]];
  while (stack.length > 0) {
    const [dir, depth] = stack.pop()!;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth >= 3 || e.name.startsWith('.')) return false;
        stack.push([p, depth + 1]);
      } else if (!e.isFile() || !/\.(ya?ml|json)$/.test(e.name)) {
        return false;
      } else if (e.name === PLAN_FILE && depth === 2 && isPlan(p)) {
        plans++;
      }
    }
  }
  return plans > 0;
}

function isPlan(file: string): boolean {
  try {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { apiVersion?: unknown; kind?: unknown };
    return json.apiVersion === PLAN_API_VERSION && json.kind === 'AnalysisPlan';
  } catch {
    return false;
  }
}

/** Throws a ValidationError when canarykit must not replace `outdir`. */
export function assertWritableOutputDir(outdir: string, opts: OutputDirOptions = {}): void {
  const problems = outputDirProblems(outdir, opts);
  if (problems.length > 0) throw new ValidationError(problems, 'refusing to replace the output folder, nothing was written');
}

/** Whether a folder path or file name from a renderer stays inside its parent (no `..`, no absolute path). */
export function isSafeRelativePath(rel: string): boolean {
  if (rel === '' || path.isAbsolute(rel) || rel.includes('\\') || rel.includes('\0')) return false;
  return rel.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && Buffer.byteLength(seg) <= 255);
}
