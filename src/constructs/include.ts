import * as fs from 'fs';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { parseAllDocuments } from 'yaml';
import { Problem, ValidationError } from '../errors';
import { Json } from './workload/deployment-json';

/**
 * Parses multi-document YAML and throws on any syntax error. `yaml.parseAllDocuments` (and so
 * cdk8s `Include`) records errors on the document and still returns a half-parsed object, which
 * would silently become a wrong manifest. Empty documents are skipped, as cdk8s does.
 */
export function loadYamlStrict(text: string, where: string): Json[] {
  // YAML 1.1, like cdk8s, so `0755` and `yes` read the same as with Include.
  const docs = parseAllDocuments(text, { version: '1.1' });
  const problems: Problem[] = [];
  const objects: Json[] = [];
  docs.forEach((doc, i) => {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      problems.push({ path: pos ? `${where}:${pos.line}:${pos.col}` : where, message: e.message.split('\n')[0] });
    }
    const value = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ path: where, message: `document ${i + 1} is not a Kubernetes object (a YAML mapping)` });
    } else if (Object.keys(value).length > 0) {
      objects.push(value);
    }
  });
  if (problems.length > 0) throw new ValidationError(problems, `invalid YAML in ${where}`);
  return objects;
}

/** Props of {@link StrictInclude}. */
export interface StrictIncludeProps {
  /** Path of a local YAML manifest file. */
  readonly url: string;
}

/**
 * cdk8s `Include` for local files that fails on YAML syntax errors instead of defining
 * half-parsed objects. Object ids follow cdk8s `Include` (`name[-kind][-namespace]`).
 */
export class StrictInclude extends Construct {
  constructor(scope: Construct, id: string, props: StrictIncludeProps) {
    super(scope, id);
    const fail = (message: string): never => {
      throw new ValidationError([{ path: `[${this.node.path}] url`, message }], 'synth failed, nothing was written');
    };
    if (/^[a-z]+:\/\//i.test(props.url)) fail(`must be a local file (got ${props.url}); commit the manifest so synth does not depend on the network`);
    let text = '';
    try {
      text = fs.readFileSync(props.url, 'utf8');
    } catch (e) {
      fail(`cannot read ${props.url} (${(e as Error).message})`);
    }
    let objects: Json[] = [];
    try {
      objects = loadYamlStrict(text, props.url);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      throw new ValidationError(e.problems.map((p) => ({ path: `[${this.node.path}] ${p.path}`, message: p.message })), 'synth failed, nothing was written');
    }
    let order = 0;
    for (const obj of objects) {
      const name = obj.metadata?.name ?? `object${order++}`;
      const objId = [name, obj.kind?.toLowerCase(), obj.metadata?.namespace].filter((x) => x).join('-');
      new ApiObject(this, objId, obj as any);
    }
  }

  /** The included objects. */
  get apiObjects(): ApiObject[] {
    return this.node.children.filter((c): c is ApiObject => c instanceof ApiObject);
  }
}
