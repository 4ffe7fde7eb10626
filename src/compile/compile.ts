import * as fs from 'fs';
import * as path from 'path';
import { Problem, ValidationError } from '../errors';
import { writeFolders } from '../constructs/canary-app';
import { OutputFolder } from '../constructs/output';
import { assertWritableOutputDir } from '../constructs/output-dir';
import { classifyInputs } from './inputs';
import { fileParseCache } from './parse-cache';
import { InputObject, loadYamlInputs } from './load-yaml';
import { PASSTHROUGH_FOLDER, buildApp, explainConstructProblems } from './to-app';
import { ControllerSettingsInput } from '../model/controller-settings';

/** Options of {@link compile}. */
export interface CompileOptions {
  /** YAML files and folders (`-f`), read recursively. */
  readonly files: readonly string[];
  /** Output folder, replaced as a whole. @default 'dist' */
  readonly outdir?: string;
  /** Folder of state files, relative to the working directory (plans record this path). @default 'state' */
  readonly stateDir?: string;
  /** What relative paths are relative to (the step driver's in-process synth: the clone). @default process.cwd() */
  readonly cwd?: string;
  /**
   * Only these canaries (`namespace/name`) changed, and only in their state files, since `outdir`
   * was compiled from the same inputs (the step driver's second synth of a tick): every input is
   * still read and validated, but only their folders are built, rendered and replaced; every other
   * folder stays as written. Without an existing output, or naming a canary not in the inputs, the
   * compilation is a full one.
   */
  readonly only?: readonly string[];
  /** A file keeping parsed inputs between runs (src/compile/parse-cache.ts); the driver's in-process synth uses one. */
  readonly parseCache?: string;
  /**
   * Flagger's controller flags (`-mesh-provider`, `-selector-labels`, ...; model/controller-settings.ts).
   * @default - Flagger's defaults (mesh provider: compile/support.ts DEFAULT_PROVIDER)
   */
  readonly controller?: ControllerSettingsInput;
}

/** What a compilation produced, in memory. */
export interface Compiled {
  readonly folders: OutputFolder[];
  /** `namespace/name` of every compiled Canary, sorted. */
  readonly canaries: string[];
  /** Objects written unchanged to `_unreferenced/`. */
  readonly passthrough: number;
  /** Things worth telling the user that are not errors (unused MetricTemplates, ...). */
  readonly warnings: string[];
}

/** Summary of {@link compile}. */
export interface CompileResult extends Omit<Compiled, 'folders'> {
  /** Number of folders written. */
  readonly folders: number;
  readonly outdir: string;
}

const HEADLINE = 'compile failed, nothing was written';

function dedupe(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Compiles parsed YAML documents (Flagger Canary, MetricTemplate and AlertProvider plus the
 * objects they refer to) into output folders, through the Canary construct. Reads nothing but the
 * state files; writes nothing. Throws one ValidationError listing every problem.
 */
/** `renderBatch`: canaries built per render batch (buildApp; tests set it to compare batchings). */
export function compileObjects(objects: readonly InputObject[], opts: { stateDir?: string; cwd?: string; only?: ReadonlySet<string>; controller?: ControllerSettingsInput; renderBatch?: number } = {}): Compiled {
  // An empty compilation would replace the whole output folder with nothing.
  if (objects.length === 0) throw new ValidationError([{ path: '-f', message: 'the inputs hold no Kubernetes objects (only empty documents)' }], HEADLINE);
  const { inputs, problems } = classifyInputs(objects);
  if (problems.length > 0) throw new ValidationError(dedupe(problems), HEADLINE);
  const only = opts.only;
  const idOf = (c: InputObject): string => `${c.json.metadata.namespace ?? 'default'}/${c.json.metadata.name}`;
  const scoped = only ? { ...inputs, canaries: inputs.canaries.filter((c) => only.has(idOf(c))) } : inputs;
  const built = buildApp(scoped, opts.stateDir ?? 'state', opts.cwd ?? '.', { scoped: !!only, controller: opts.controller, renderBatch: opts.renderBatch });
  if (built.problems.length > 0) throw new ValidationError(dedupe(built.problems), HEADLINE);
  let folders: OutputFolder[];
  try {
    built.pass.take(true);
    folders = built.pass.finish();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    throw new ValidationError(dedupe(explainConstructProblems(e.problems, built.charts)), HEADLINE);
  }
  const canaries = inputs.canaries.map((c) => `${c.json.metadata.namespace ?? 'default'}/${c.json.metadata.name}`).sort();
  // What Flagger corrects at run time, corrected the same way: said in terms of the Canary YAML.
  const corrected = explainConstructProblems(built.pass.warnings, built.charts).map((w) => `${w.path}: ${w.message}`);
  const passthrough = folders.find((f) => f.dir === PASSTHROUGH_FOLDER);
  return {
    folders,
    canaries,
    passthrough: passthrough ? passthrough.files.size - 1 : 0,
    warnings: canaries.length ? [...corrected, ...built.warnings] : [...built.warnings, 'no flagger.app/v1beta1 Canary in the inputs: every object was passed through unchanged'],
  };
}

/** Reads and compiles YAML files and folders without writing anything; relative paths (inputs, state files) from `cwd`. */
export function compileFiles(files: readonly string[], opts: { stateDir?: string; cwd?: string; only?: ReadonlySet<string>; parseCache?: string; controller?: ControllerSettingsInput } = {}): Compiled {
  return compileObjects(loadYamlInputs(files, opts.cwd, opts.parseCache ? fileParseCache(opts.parseCache) : undefined), opts);
}

/**
 * `canarykit compile`: reads the YAML inputs, compiles them and replaces `outdir` in one step.
 * On any problem it throws before writing, so the previous output stays as it was.
 */
export async function compile(opts: CompileOptions): Promise<CompileResult> {
  const outdir = opts.outdir ?? 'dist';
  // Refuse a dangerous -o before spending time on the inputs; writeFolders checks again.
  const where = { inputs: opts.files, shownAs: `-o ${outdir}`, cwd: opts.cwd };
  assertWritableOutputDir(outdir, where);
  const stateDir = opts.stateDir ?? 'state';
  if (opts.only && fs.existsSync(path.resolve(opts.cwd ?? process.cwd(), outdir))) {
    const only = new Set(opts.only);
    const scoped = compileFiles(opts.files, { stateDir, cwd: opts.cwd, only, parseCache: opts.parseCache, controller: opts.controller });
    // Every named canary found: its folder is all that changes. Otherwise compile everything.
    if (scoped.folders.length === only.size && only.size > 0) {
      writeFolders(outdir, scoped.folders, { ...where, partial: true });
      return { ...scoped, folders: scoped.folders.length, outdir };
    }
  }
  const compiled = compileFiles(opts.files, { stateDir, cwd: opts.cwd, parseCache: opts.parseCache, controller: opts.controller });
  writeFolders(outdir, compiled.folders, where);
  return { ...compiled, folders: compiled.folders.length, outdir };
}
