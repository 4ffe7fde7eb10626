import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { AnalysisPlan, CanaryState } from '../../src';
import { bootstrapState } from '../../src/constructs/canary';
import { Compiled, compileFiles } from '../../src/compile';
import { writeStateFile, stateFilePath } from '../../src/model/state-store';
import { ValidationError } from '../../src/errors';

const execFileAsync = promisify(execFile);

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'flagger');

/** A fresh temporary folder, removed by the caller's afterEach via `cleanup`. */
export function tempDir(prefix = 'canarykit-compile-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Rendered output, parsed: folder -> file -> object (YAML) or plan (JSON). */
export class Output {
  constructor(readonly compiled: Compiled) {}

  get dirs(): string[] {
    return this.compiled.folders.map((f) => f.dir);
  }

  files(dir: string): string[] {
    return [...this.folder(dir).files.keys()];
  }

  text(dir: string, file: string): string {
    const content = this.folder(dir).files.get(file);
    if (content === undefined) throw new Error(`${dir}/${file} not rendered; have ${this.files(dir).join(', ')}`);
    return content;
  }

  /** A manifest by `<kind>-<name>` (the file name without `.yaml`). */
  obj(dir: string, kindName: string): any {
    return parse(this.text(dir, `${kindName}.yaml`));
  }

  plan(dir: string): AnalysisPlan {
    return JSON.parse(this.text(dir, 'canary.plan.json'));
  }

  private folder(dir: string): Compiled['folders'][number] {
    const f = this.compiled.folders.find((x) => x.dir === dir);
    if (!f) throw new Error(`folder ${dir} not rendered; have ${this.dirs.join(', ')}`);
    return f;
  }
}

/** Compiles a fixture folder (or several) with the given state folder. */
export function compileFixture(names: string | string[], stateDir: string): Output {
  const files = (Array.isArray(names) ? names : [names]).map((n) => path.join(FIXTURES, n));
  return new Output(compileFiles(files, { stateDir }));
}

/**
 * Writes a state file for a canary at a stage other than bootstrap: the primary runs the current
 * target (as after initialization) and `patch` sets phase and weights.
 */
export function writeStage(stateDir: string, plan: AnalysisPlan, patch: Partial<CanaryState>): void {
  const state: CanaryState = { ...bootstrapState(plan.namespace, plan.name, plan.canary), ...patch };
  writeStateFile(stateFilePath(stateDir, plan.namespace, plan.name), state);
}

/** `kubectl kustomize` of a compiled folder, written to a scratch folder; resolves to the build's stdout. */
export async function kustomizeBuild(out: Output, dir: string): Promise<string> {
  const root = tempDir('canarykit-kustomize-');
  try {
    for (const file of out.files(dir)) fs.writeFileSync(path.join(root, file), out.text(dir, file));
    return (await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Compiles a copy of fixture `name`'s `file` with `from` replaced by `to` (which must occur), expecting
 * the compile to be refused; returns the ValidationError's message. Nothing may have been written.
 */
export function refusedEdit(name: string, file: string, from: string, to: string, stateDir: string): string {
  const dir = tempDir('canarykit-refused-');
  try {
    const text = fs.readFileSync(path.join(FIXTURES, name, file), 'utf8');
    expect(text).toContain(from);
    fs.writeFileSync(path.join(dir, file), text.replace(from, to));
    let error: unknown;
    try {
      compileFiles([dir], { stateDir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
