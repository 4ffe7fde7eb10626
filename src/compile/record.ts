import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { OutputFolder } from '../constructs/output';
import { PLAN_API_VERSION } from '../model/plan';
import { ControllerSettingsInput } from '../model/controller-settings';
import { CONTROLLER_ENV } from '../constructs/canary-app';
import { packageVersion } from '../version';
import type { InputObject } from './load-yaml';

/**
 * The compile record (issue 14): the owner of `canary.inputs.json`, the file in every canary folder
 * `canarykit compile` writes that says what the folder was compiled from. It lists every input
 * key (`group|kind|namespace|name`) the canary's compilation looked up, found or not, with a hash
 * of the object found (null for a miss), the hash of its state file (null when absent), a key for
 * everything else that shapes output (this canarykit's code and version, cdk8s' and yaml's
 * versions, the controller settings, stateDir) and a hash of the folder's other files.
 *
 * The next compile keeps a folder as it is on disk, without building or rendering it, exactly when
 * the record it would write now is the record on disk: same key, same lookups with the same hashes,
 * same state file, and the folder's files hash as recorded (so a folder edited by hand, written by
 * another canarykit or half replaced is rebuilt). A canary writing a cluster-scoped object is
 * always rebuilt, as such objects are checked across canaries at render. Anything unreadable or
 * unexpected means "rebuild", so the worst case is a full compile. The record sits in the folder,
 * so it is replaced in the same rename as the folder, and commits with the folder and state file.
 */
export const RECORD_FILE = 'canary.inputs.json';
const KIND = 'CompileRecord';

/** One lookup of a canary's compilation: the key asked for and the object found, if any. */
export type Lookup = readonly [key: string, found: InputObject | undefined];

/** Finds an input object by group, kind, namespace and name (compile's InputIndex). */
export interface KeyFinder {
  find(group: string, kind: string, namespace: string, name: string): InputObject | undefined;
}

/** What a kept folder holds for the rest of the compile: the inputs it took over and its objects' keys. */
export interface KeptFolder {
  /** Input objects the folder's Canary took over (they must not also be passed through). */
  readonly adopted: InputObject[];
  /** `group|kind|namespace|name` of every object in the folder (one writer per object across folders). */
  readonly outputs: string[];
}

interface RecordJson {
  apiVersion: string;
  kind: string;
  key: string;
  inputs: Record<string, string | null>;
  /** Keys the render asked about to take over objects with generated names (hit or miss). */
  adopted: Record<string, string | null>;
  /** Keys of the objects in the folder. */
  outputs: string[];
  state: string | null;
  clusterScoped: boolean;
  files: string;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

let buildId: string | undefined;

/**
 * canarykit's code (every .ts/.js file of its source tree: the version alone does not change
 * between commits of a checkout) plus the versions of the packages that shape the output text.
 */
function canarykitBuild(): string {
  if (buildId) return buildId;
  const h = createHash('sha256').update(packageVersion(__dirname));
  const root = path.join(__dirname, '..');
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) h.update(`${path.relative(root, p)}\0`).update(fs.readFileSync(p));
    }
  };
  walk(root);
  for (const pkg of ['cdk8s', 'yaml', 'constructs']) {
    try {
      h.update(`${pkg}@${JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version}`);
    } catch {
      h.update(`${pkg}@?`);
    }
  }
  return (buildId = h.digest('hex'));
}

/** Everything but the inputs and state that shapes a canary's folder, as one hash. */
export function compileKey(opts: { stateDir: string; controller?: ControllerSettingsInput }): string {
  const settings = JSON.stringify(sortKeys(opts.controller ?? {}));
  // CanaryApp also reads controller settings from the environment (canary-app.ts resolveController).
  return sha256([canarykitBuild(), opts.stateDir, settings, process.env[CONTROLLER_ENV] ?? ''].join('\0'));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** Hash of a folder's files but the record: names and contents, in name order. */
function filesHash(files: ReadonlyArray<readonly [string, string | Buffer]>): string {
  const h = createHash('sha256');
  for (const [name, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    h.update(`${name}\0${bytes.length}\0`).update(bytes);
  }
  return h.digest('hex');
}

/** The record file's text: keys sorted, so equal records are equal bytes. */
function recordText(r: RecordJson): string {
  const sorted = (m: Record<string, string | null>) => Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]));
  return `${JSON.stringify({ apiVersion: r.apiVersion, kind: r.kind, key: r.key, inputs: sorted(r.inputs), adopted: sorted(r.adopted), outputs: [...r.outputs].sort(), state: r.state, clusterScoped: r.clusterScoped, files: r.files }, null, 2)}\n`;
}

/**
 * Records what each canary looked up during one compile, decides which folders are kept
 * (`keep`, given to buildApp) and adds the record to every folder rendered (`stamp`).
 */
export class CompileRecorder {
  private readonly hashes = new WeakMap<InputObject, string>();
  private readonly seen = new Map<string, Pick<RecordJson, 'inputs' | 'state'> & { adoptLookups: readonly Lookup[] }>();
  private readonly key: string;

  /**
   * `outdir`: the existing output folder (absolute) whose folders may be kept; undefined keeps none.
   * `stateRoot` and `stateDir` locate state files as the Canary construct does.
   */
  constructor(private readonly opts: { outdir?: string; stateRoot: string; stateDir: string; controller?: ControllerSettingsInput }) {
    this.key = compileKey(opts);
  }

  /**
   * Whether the canary's folder on disk is kept as it is (what it holds) or built and rendered
   * (false). `adoptLookups` is filled by the render that follows a false: the lookups of objects
   * to take over, recorded too. A kept folder's take-over keys are looked up again in `index`: an
   * object that appeared, changed or went away under one of them means "rebuild".
   */
  keep(canary: InputObject, lookups: readonly Lookup[], adoptLookups: readonly Lookup[], index: KeyFinder): KeptFolder | false {
    const ns = canary.json.metadata.namespace ?? 'default';
    const name = canary.json.metadata.name as string;
    const id = `${ns}/${name}`;
    const inputs: Record<string, string | null> = { [`flagger.app|Canary|${ns}|${name}`]: this.hash(canary) };
    for (const [key, found] of lookups) inputs[key] = found ? this.hash(found) : null;
    const state = this.stateHash(ns, name);
    if (state === undefined) return false;
    this.seen.set(id, { inputs, state, adoptLookups });
    if (!this.opts.outdir) return false;
    try {
      const dir = path.join(this.opts.outdir, ns, name);
      const text = fs.readFileSync(path.join(dir, RECORD_FILE), 'utf8');
      const stored = JSON.parse(text) as RecordJson;
      // Cheap parts first; the folder's files are read only for a record that matches otherwise.
      if (stored.key !== this.key || stored.clusterScoped !== false || typeof stored.files !== 'string') return false;
      if (!stored.adopted || typeof stored.adopted !== 'object' || !Array.isArray(stored.outputs)) return false;
      const adopted: InputObject[] = [];
      const adoptedNow: Record<string, string | null> = {};
      for (const key of Object.keys(stored.adopted)) {
        const parts = key.split('|');
        if (parts.length !== 4) return false;
        const found = index.find(parts[0], parts[1], parts[2], parts[3]);
        adoptedNow[key] = found ? this.hash(found) : null;
        if (found) adopted.push(found);
      }
      const expected = (files: string): string =>
        recordText({ apiVersion: PLAN_API_VERSION, kind: KIND, key: this.key, inputs, adopted: adoptedNow, outputs: stored.outputs, state, clusterScoped: false, files });
      if (expected(stored.files) !== text) return false;
      const files: [string, Buffer][] = [];
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isFile()) return false; // a sub-folder or a link: rebuild
        if (e.name !== RECORD_FILE) files.push([e.name, fs.readFileSync(path.join(dir, e.name))]);
      }
      return filesHash(files) === stored.files ? { adopted, outputs: stored.outputs } : false;
    } catch {
      return false; // no record, unreadable, foreign: rebuild
    }
  }

  /**
   * Adds the record to each canary folder of `folders` seen by `keep`. `clusterScoped` holds the
   * folders that wrote a cluster-scoped object. A canary folder the recorder did not see (none, as
   * buildApp asks for every canary it builds) gets no record and is rebuilt next time.
   */
  stamp(folders: readonly OutputFolder[], clusterScoped: ReadonlySet<string>, outputsOf: (dir: string) => string[]): void {
    for (const folder of folders) {
      const seen = this.seen.get(folder.dir);
      if (!seen) continue;
      const files = filesHash([...folder.files].filter(([n]) => n !== RECORD_FILE));
      const adopted: Record<string, string | null> = {};
      for (const [key, found] of seen.adoptLookups) adopted[key] = found ? this.hash(found) : null;
      folder.files.set(RECORD_FILE, recordText({ apiVersion: PLAN_API_VERSION, kind: KIND, key: this.key, inputs: seen.inputs, adopted, outputs: outputsOf(folder.dir), state: seen.state, clusterScoped: clusterScoped.has(folder.dir), files }));
    }
  }

  private hash(obj: InputObject): string {
    let h = this.hashes.get(obj);
    if (h === undefined) this.hashes.set(obj, (h = sha256(JSON.stringify(obj.json))));
    return h;
  }

  /** The state file's hash, null when there is none, undefined when it cannot be read (no record then). */
  private stateHash(ns: string, name: string): string | null | undefined {
    try {
      return sha256(fs.readFileSync(path.resolve(this.opts.stateRoot, this.opts.stateDir, ns, `${name}.json`)));
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
    }
  }
}
