import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { Problem } from '../errors';
import { ANALYSIS_BOUNDS } from '../model/analysis-bounds';
import { describeAjvError } from '../model/state';
import { FLAGGER_SCHEMAS } from './flagger-schema.generated';
import { FlaggerKind } from './flagger-types';
import { dottedPath } from './field-path';
import { InputObject, documentName } from './load-yaml';

export { dottedPath };

type Schema = Record<string, any>;

/**
 * Flagger's CRD schema (generated, strict) tightened where the CRD says `number` but Flagger or
 * Kubernetes only accept whole numbers in a range, so a bad weight is reported against the YAML
 * field instead of later. `spec.provider` loses its enum: compile names the supported providers.
 */
function refine(kind: FlaggerKind, generated: Schema): Schema {
  const schema: Schema = JSON.parse(JSON.stringify(generated));
  schema.required = ['apiVersion', 'kind', 'metadata', 'spec'];
  schema.properties.metadata = {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', minLength: 1 }, namespace: { type: 'string', minLength: 1 } },
  };
  const int = (min: number, max?: number): Schema => ({ type: 'integer', minimum: min, ...(max === undefined ? {} : { maximum: max }) });
  if (kind === 'Canary') {
    const spec = schema.properties.spec;
    // Flagger's CRD requires no spec.service: a Knative Canary has none. Compile requires it for
    // every other provider (to-app.ts resolveCanary), once the provider is known.
    spec.required = ['targetRef', 'analysis'];
    delete spec.properties.provider.enum;
    spec.properties.progressDeadlineSeconds = int(1);
    spec.properties.service.properties.port = int(1, 65535);
    const a = spec.properties.analysis.properties;
    const b = ANALYSIS_BOUNDS;
    // Values Flagger corrects at run time (threshold under 1, steps past 100) reach the construct,
    // which runs them as Flagger does and warns (constructs/analysis.ts flaggerClamps).
    a.threshold = { type: 'integer' };
    for (const field of ['iterations', 'maxWeight', 'stepWeight', 'stepWeightPromotion', 'mirrorWeight', 'primaryReadyThreshold', 'canaryReadyThreshold'] as const) {
      a[field] = int(b[field].min, b[field].max);
    }
    a.stepWeights = { type: 'array', minItems: 1, items: int(b.stepWeights.min) };
    a.webhooks.items.properties.retries = int(0);
    a.sessionAffinity.properties.maxAge = int(1);
  }
  return schema;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<FlaggerKind, ValidateFunction>();

function validatorFor(kind: FlaggerKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    v = ajv.compile(refine(kind, FLAGGER_SCHEMAS[kind]));
    validators.set(kind, v);
  }
  return v;
}

/** `Kind namespace/name` as messages show a resource. */
export function resourceName(obj: InputObject): string {
  const m = obj.json.metadata ?? {};
  return `${obj.json.kind} ${m.namespace ?? 'default'}/${m.name ?? '<unnamed>'}`;
}

/** `apps/podinfo.yaml#2 Canary test/podinfo: spec.analysis.maxWeight`: where a problem is. */
export function fieldLocation(obj: InputObject, fieldPath: string): string {
  return `${documentName(obj.origin)} ${resourceName(obj)}${fieldPath ? `: ${fieldPath}` : ''}`;
}

function pointerSegments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** A problem at a field of an input object, with the YAML line when it can be found. */
export function fieldProblem(obj: InputObject, segments: readonly (string | number)[], message: string): Problem {
  let line: number | undefined;
  for (let n = segments.length; n >= 0 && line === undefined; n--) line = obj.lineOf(segments.slice(0, n));
  return { path: fieldLocation(obj, dottedPath(segments)), message: line === undefined ? message : `${message} (line ${line})` };
}

/** "must set interval, threshold and exactly one of iterations, stepWeight, stepWeights" for required-only oneOfs. */
function describeOneOf(branches: Schema[] | undefined, e: ErrorObject): string {
  const requiredOnly = branches?.every((b) => Object.keys(b).length === 1 && Array.isArray(b.required));
  if (!branches || !requiredOnly) return 'must match exactly one of the allowed forms (see the Flagger CRD)';
  const sets = branches.map((b) => b.required as string[]);
  const common = sets[0].filter((k) => sets.every((s) => s.includes(k)));
  const distinct = sets.map((s) => s.filter((k) => !common.includes(k)).join(' + '));
  const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
  const head = common.length ? `must set ${common.join(', ')} and exactly one of ${distinct.join(', ')}` : `must set exactly one of ${distinct.join(', ')}`;
  return passing && passing.length > 1 ? `${head} (found ${passing.map((i) => distinct[i]).join(' and ')})` : head;
}

function schemaAt(root: Schema, schemaPath: string): Schema | undefined {
  let node: any = root;
  for (const seg of pointerSegments(schemaPath.replace(/^#/, ''))) node = node?.[seg];
  return node;
}

/**
 * Validates a Flagger resource against its schema. Errors name the file, document, resource and
 * field: `apps/podinfo.yaml#2 Canary test/podinfo: spec.analysis.maxWeight: must be <= 100 (got 150) (line 14)`.
 */
export function validateFlaggerResource(obj: InputObject, kind: FlaggerKind): Problem[] {
  const validate = validatorFor(kind);
  const { status, ...rest } = obj.json;
  const problems: Problem[] = [];
  if (status !== undefined) {
    problems.push(fieldProblem(obj, ['status'], 'is not read: canarykit keeps the rollout stage in its state file (<state dir>/<namespace>/<name>.json); remove status'));
  }
  if (validate(rest)) return problems;
  const errors = validate.errors ?? [];
  // A failed oneOf/anyOf reports every branch's errors too; keep only the summary.
  const combinators = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.schemaPath);
  for (const e of errors) {
    if (combinators.some((p) => e.schemaPath !== p && e.schemaPath.startsWith(`${p}/`))) continue;
    let segments = pointerSegments(e.instancePath);
    let message: string;
    if (e.keyword === 'oneOf') {
      message = describeOneOf(schemaAt(validate.schema as Schema, e.schemaPath) as Schema[] | undefined, e);
    } else if (e.keyword === 'anyOf') {
      message = 'must be an integer or a string';
    } else if (e.keyword === 'additionalProperties') {
      const field = String(e.params.additionalProperty);
      segments = [...segments, field];
      message = field === 'canaryAnalysis' && segments.length === 2
        ? 'is the legacy name of analysis and is not read by Flagger 1.44 either; rename it to analysis'
        : 'unknown field (remove it or fix its spelling; Flagger v1beta1 has no such field here)';
    } else if (e.keyword === 'minimum' || e.keyword === 'maximum' || e.keyword === 'type' || e.keyword === 'pattern') {
      const value = segments.reduce<any>((v, s) => v?.[s], rest);
      message = `${e.keyword === 'pattern' ? `must match ${String(e.params.pattern)}` : describeAjvError(e)} (got ${JSON.stringify(value)})`;
    } else {
      message = describeAjvError(e);
    }
    problems.push(fieldProblem(obj, segments, message));
  }
  return problems;
}
