import * as fs from 'fs';
import * as path from 'path';
import { Composer, Document, LineCounter, Parser, isMap, isScalar, visit } from 'yaml';
import { Problem, ValidationError } from '../errors';
import { Json } from '../constructs/workload/deployment-json';
import { dottedPath } from './field-path';
import { nonStringFields } from './string-fields';
import type { ParseCache } from './parse-cache';
import { statOf } from './file-stat';
import { LIMITS, formatBytes, isParserStackOverflow, nodeDepthExceeds, readTextFile } from '../limits';

/** Where an input object came from: the file as the user named it and its document number (1-based). */
export interface Origin {
  readonly file: string;
  readonly index: number;
}

/** One non-empty YAML document of the inputs. */
export interface InputObject {
  readonly origin: Origin;
  readonly json: Json;
  /** 1-based line of the node at `fieldPath` (keys and sequence indexes), when it exists. */
  lineOf(fieldPath: readonly (string | number)[]): number | undefined;
}

const YAML_EXTENSIONS = /\.ya?ml$/i;

/** `file#index`: how every message names a document. */
export function documentName(origin: Origin): string {
  return `${origin.file}#${origin.index}`;
}

/**
 * Every `.yaml`/`.yml` file named by `paths`: files as given, folders walked recursively, entries
 * starting with a dot skipped, each folder's files in byte order. Display names are relative to
 * `cwd` with forward slashes.
 */
export function listYamlFiles(paths: readonly string[], cwd: string): { files: { abs: string; display: string }[]; problems: Problem[] } {
  const files: { abs: string; display: string }[] = [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  // Listed files lie under the resolved cwd mostly: a prefix cut then, path.relative (slow at thousands) otherwise.
  const under = path.resolve(cwd) + path.sep;
  const display = (abs: string): string => {
    if (abs.startsWith(under) && path.sep === '/') return abs.slice(under.length);
    const rel = path.relative(cwd, abs);
    return (rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs).split(path.sep).join('/');
  };
  const add = (abs: string): void => {
    if (seen.has(abs)) return;
    seen.add(abs);
    files.push({ abs, display: display(abs) });
  };
  const walk = (dir: string): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile() && YAML_EXTENSIONS.test(e.name)) add(abs);
    }
  };
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      problems.push({ path: p, message: 'no such file or folder' });
      continue;
    }
    if (stat.isDirectory()) {
      const before = files.length;
      walk(abs);
      if (files.length === before) problems.push({ path: p, message: 'folder holds no .yaml or .yml files' });
    } else {
      add(abs);
    }
  }
  return { files, problems };
}

// YAML 1.1 reads `1:30` as the base-60 number 90; Kubernetes' Go parser keeps it as text.
const SEXAGESIMAL = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/;

/**
 * Parses one multi-document YAML text as YAML 1.1, like cdk8s `Include` and kubectl (`0644` is
 * octal, `yes` is a boolean). Any parse error or warning is a problem naming the file, the
 * document and the line (`yaml` returns a document with wrong content instead of throwing, so
 * nothing from a document with errors is used). Timestamps stay text, as in Kubernetes; base-60
 * numbers are rejected. Empty documents are skipped.
 */
export function parseYaml(text: string, file: string): { objects: InputObject[]; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const objects: InputObject[] = [];
  const problems: Problem[] = [];
  const lineAt = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  // Documents are composed one at a time, so a file of a million `---` stops at the limit instead
  // of holding a million documents in memory.
  const list: Document.Parsed[] = [];
  const lines = lazyLines(text);
  const composer = new Composer({ prettyErrors: false, version: '1.1' });
  for (const doc of composer.compose(new Parser(lineCounter.addNewLine).parse(text), true)) {
    if (list.length === LIMITS.documentsPerFile) {
      return { objects: [], problems: [{ path: file, message: `holds more than ${LIMITS.documentsPerFile} YAML documents, the most canarykit reads from one file; split it` }] };
    }
    list.push(doc as Document.Parsed);
  }
  list.forEach((doc: Document.Parsed, i) => {
    const where = documentName({ file, index: i + 1 });
    const issues = [...doc.errors.map((e) => ({ e, kind: 'YAML syntax error' })), ...doc.warnings.map((e) => ({ e, kind: 'YAML warning' }))];
    for (const { e, kind } of issues) {
      // `yaml` reports its own stack overflow on absurd nesting as a syntax error.
      const message = isParserStackOverflow(e.message) ? `nests mappings and sequences more than ${LIMITS.depth} levels deep; Kubernetes objects never do, check the file` : e.message;
      problems.push({ path: where, message: `${kind} at line ${lineAt(e.pos[0])}: ${message}` });
    }
    if (issues.length > 0) return;
    // Everything below walks the tree recursively: refuse a pathological depth first.
    if (nodeDepthExceeds(doc.contents, LIMITS.depth)) {
      problems.push({ path: where, message: `nests mappings and sequences more than ${LIMITS.depth} levels deep; Kubernetes objects never do, check the file` });
      return;
    }
    let ambiguous = false;
    visit(doc, {
      Pair(_key, pair) {
        const k = pair.key;
        if (isScalar(k) && k.type === 'PLAIN' && typeof k.value === 'boolean' && !/^(true|false)$/i.test(String(k.source))) {
          ambiguous = true;
          problems.push({ path: where, message: `line ${lineAt(k.range?.[0])}: plain key ${k.source} is the boolean ${k.value} in YAML 1.1 (Kubernetes reads it as "${k.value}"); quote it ("${k.source}")` });
        }
      },
      Scalar(_key, node) {
        if (node.value instanceof Date && typeof node.source === 'string') node.value = node.source;
        if (node.type === 'PLAIN' && typeof node.value === 'number' && typeof node.source === 'string' && SEXAGESIMAL.test(node.source)) {
          ambiguous = true;
          problems.push({ path: where, message: `line ${lineAt(node.range?.[0])}: plain value ${node.source} is a base-60 number (${node.value}) in YAML 1.1 but text to Kubernetes; quote it ("${node.source}")` });
        }
      },
    });
    if (ambiguous) return;
    let json: Json;
    try {
      json = doc.toJS({ maxAliasCount: LIMITS.aliases });
    } catch (e) {
      // `yaml` throws a ReferenceError for an alias bomb ("excessive alias count").
      problems.push({ path: where, message: `${(e as Error).message}: YAML aliases may expand to at most ${LIMITS.aliases} copies per document; write the values out` });
      return;
    }
    if (json === null || json === undefined) return;
    if (!isMap(doc.contents)) {
      problems.push({ path: where, message: `line ${lineAt(doc.contents?.range?.[0])}: a document must be a Kubernetes object (a mapping with apiVersion, kind and metadata)` });
      return;
    }
    const textual = nonStringFields(json);
    for (const f of textual) {
      const node = doc.getIn(f.path as unknown[], true);
      const source = isScalar(node) && typeof node.source === 'string' ? node.source : String(f.value);
      const read = typeof f.value === 'boolean' ? `the boolean ${f.value}` : `the number ${f.value}`;
      problems.push({ path: where, message: `line ${lineAt(isScalar(node) ? node.range?.[0] : undefined)}: ${dottedPath(f.path)} is ${read} in YAML 1.1 (written ${source}), but Kubernetes wants text there and would reject the object; quote it ("${source}")` });
    }
    if (textual.length > 0) return;
    objects.push({ origin: { file, index: i + 1 }, json, lineOf: (fieldPath) => lines(i, fieldPath) });
  });
  return { objects, problems };
}

/**
 * Line numbers of a file's documents from a parse made when one is first asked for. Keeping every
 * document's syntax tree for the rare message that names a line was most of the inputs' memory
 * (~150 MB for 10,000 documents; issue 14), so only the text is kept.
 */
function lazyLines(text: string): (index: number, fieldPath: readonly (string | number)[]) => number | undefined {
  let parsed: { docs: Document.Parsed[]; lineCounter: LineCounter } | undefined;
  return (index, fieldPath) => {
    if (!parsed) {
      const lineCounter = new LineCounter();
      const composer = new Composer({ prettyErrors: false, version: '1.1' });
      parsed = { docs: [...composer.compose(new Parser(lineCounter.addNewLine).parse(text), true)] as Document.Parsed[], lineCounter };
    }
    const doc = parsed.docs[index];
    if (!doc) return undefined;
    const node = fieldPath.length ? doc.getIn(fieldPath as unknown[], true) : doc.contents;
    const range = (isScalar(node) || (node && typeof node === 'object' && 'range' in node) ? (node as { range?: [number, number, number] }).range : undefined);
    return range?.[0] === undefined ? undefined : parsed.lineCounter.linePos(range[0]).line;
  };
}

/** The objects of a file answered from its stat data, parsed again for line numbers in messages only. */
function reparseForLines(abs: string, display: string): InputObject[] {
  try {
    return parseYaml(fs.readFileSync(abs, 'utf8'), display).objects;
  } catch {
    return [];
  }
}

/**
 * Reads and parses every YAML file named by `paths` (files or folders). Throws one
 * ValidationError listing every problem in every file; returns the objects in file order.
 */
export function loadYamlInputs(paths: readonly string[], cwd = process.cwd(), cache?: ParseCache): InputObject[] {
  if (paths.length === 0) throw new ValidationError([{ path: '-f', message: 'name at least one YAML file or folder' }], 'nothing to compile');
  const { files, problems } = listYamlFiles(paths, cwd);
  const objects: InputObject[] = [];
  let total = 0;
  for (const f of files) {
    // Taken before the file is read: a change after it is seen by the next run's stat.
    const stat = cache ? statOf(f.abs) : undefined;
    const known = cache?.getByStat(f.display, stat, () => reparseForLines(f.abs, f.display));
    if (known) {
      total += known.bytes;
      if (total > LIMITS.totalInputBytes) {
        problems.push({ path: f.display, message: `the inputs exceed ${formatBytes(LIMITS.totalInputBytes)} together; compile fewer files at a time` });
        break;
      }
      objects.push(...known.objects);
      if (objects.length > LIMITS.objects) {
        problems.push({ path: f.display, message: `the inputs hold more than ${LIMITS.objects} objects; compile fewer files at a time` });
        break;
      }
      continue;
    }
    let text: string | undefined;
    try {
      text = readTextFile(f.abs, f.display, LIMITS.fileBytes, 'name only YAML files canarykit should read');
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      problems.push(...e.problems);
      continue;
    }
    if (text === undefined) {
      problems.push({ path: f.display, message: 'disappeared while reading' });
      continue;
    }
    total += Buffer.byteLength(text);
    if (total > LIMITS.totalInputBytes) {
      problems.push({ path: f.display, message: `the inputs exceed ${formatBytes(LIMITS.totalInputBytes)} together; compile fewer files at a time` });
      break;
    }
    const source = text;
    const cached = cache?.get(f.display, source, () => parseYaml(source, f.display).objects, stat);
    const parsed = cached ? { objects: cached, problems: [] } : parseYaml(text, f.display);
    if (!cached && parsed.problems.length === 0) cache?.set(f.display, text, parsed.objects, stat);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems);
    if (objects.length > LIMITS.objects) {
      problems.push({ path: f.display, message: `the inputs hold more than ${LIMITS.objects} objects; compile fewer files at a time` });
      break;
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, 'cannot read the YAML inputs, nothing was written');
  cache?.save();
  return objects;
}

