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
import { CompileRecorder, KeyFinder, Lookup } from './record';

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
  /**
   * Keep every canary folder of the existing output whose compile record (`canary.inputs.json`,
   * src/compile/record.ts) shows it was compiled from the same inputs, state file, settings and
   * canarykit, instead of building it again; the output is the same bytes either way.
   * @default true
   */
  readonly incremental?: boolean;
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
  /** Canary folders (`<namespace>/<name>`) kept as they are on disk (compile's record), not in `folders`. */
  readonly kept: string[];
  /** Folders of `folders` that hold a cluster-scoped object. */
  readonly clusterScoped: ReadonlySet<string>;
}

/** Summary of {@link compile}. */
export interface CompileResult extends Omit<Compiled, 'folders' | 'kept' | 'clusterScoped'> {
  /** Number of folders of the output (written, or kept as they were). */
  readonly folders: number;
  /** Of `folders`, canary folders kept as they were on disk (their compile record matched). */
  readonly reused: number;
  readonly outdir: string;
  /** True when only the folders of `only`'s canaries were written, the rest of the output left as it was. */
  readonly onlyScoped: boolean;
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
 * state files (and, with a `recorder`, the records of the existing output); writes nothing.
 * Throws one ValidationError listing every problem.
 */
export function compileObjects(objects: readonly InputObject[], opts: CompileObjectsOptions = {}): Compiled {
  // An empty compilation would replace the whole output folder with nothing.
  if (objects.length === 0) throw new ValidationError([{ path: '-f', message: 'the inputs hold no Kubernetes objects (only empty documents)' }], HEADLINE);
  const { inputs, problems } = classifyInputs(objects);
  if (problems.length > 0) throw new ValidationError(dedupe(problems), HEADLINE);
  const only = opts.only;
  const idOf = (c: InputObject): string => `${c.json.metadata.namespace ?? 'default'}/${c.json.metadata.name}`;
  const scoped = only ? { ...inputs, canaries: inputs.canaries.filter((c) => only.has(idOf(c))) } : inputs;
  const recorder = opts.recorder;
  const keep = recorder ? (c: InputObject, lookups: Lookup[], adoptLookups: Lookup[], index: KeyFinder) => recorder.keep(c, lookups, adoptLookups, index) : undefined;
  const built = buildApp(scoped, opts.stateDir ?? 'state', opts.cwd ?? '.', { scoped: !!only, controller: opts.controller, renderBatch: opts.renderBatch, keep });
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
  const clusterScoped = built.pass.clusterScopedFolders();
  recorder?.stamp(folders, clusterScoped, (dir) => built.pass.outputsOf(dir));
  return {
    folders,
    kept: built.kept,
    clusterScoped,
    canaries,
    passthrough: passthrough ? passthrough.files.size - 1 : 0,
    warnings: canaries.length ? [...corrected, ...built.warnings] : [...built.warnings, 'no flagger.app/v1beta1 Canary in the inputs: every object was passed through unchanged'],
  };
}

/** Options of {@link compileObjects}. */
export interface CompileObjectsOptions {
  stateDir?: string;
  cwd?: string;
  only?: ReadonlySet<string>;
  controller?: ControllerSettingsInput;
  /** Canaries built per render batch (buildApp; tests set it to compare batchings). */
  renderBatch?: number;
  /** Records each canary's lookups for its compile record (added to its folder) and keeps folders whose record matches. */
  recorder?: CompileRecorder;
}

/** Reads and compiles YAML files and folders without writing anything; relative paths (inputs, state files) from `cwd`. */
export function compileFiles(files: readonly string[], opts: CompileObjectsOptions & { parseCache?: string } = {}): Compiled {
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
  const existing = fs.existsSync(path.resolve(opts.cwd ?? process.cwd(), outdir));
  // The record of every folder rendered is written with it; folders are kept only from an existing output.
  const recorder = (keepFrom: boolean): CompileRecorder =>
    new CompileRecorder({ outdir: keepFrom ? path.resolve(opts.cwd ?? process.cwd(), outdir) : undefined, stateRoot: opts.cwd ?? '.', stateDir, controller: opts.controller });
  if (opts.only && existing) {
    const only = new Set(opts.only);
    const scoped = compileFiles(opts.files, { stateDir, cwd: opts.cwd, only, parseCache: opts.parseCache, controller: opts.controller, recorder: recorder(false) });
    // Every named canary found: its folder is all that changes. Otherwise compile everything.
    if (scoped.folders.length === only.size && only.size > 0) {
      writeFolders(outdir, scoped.folders, { ...where, partial: true });
      return { ...result(scoped), outdir, onlyScoped: true };
    }
  }
  const incremental = existing && opts.incremental !== false;
  const compiled = compileFiles(opts.files, { stateDir, cwd: opts.cwd, parseCache: opts.parseCache, controller: opts.controller, recorder: recorder(incremental) });
  writeFolders(outdir, compiled.folders, { ...where, keep: compiled.kept });
  return { ...result(compiled), outdir, onlyScoped: false };
}

function result(c: Compiled): Omit<CompileResult, 'outdir' | 'onlyScoped'> {
  const { folders, kept, clusterScoped: _c, ...rest } = c;
  return { ...rest, folders: folders.length + kept.length, reused: kept.length };
}
