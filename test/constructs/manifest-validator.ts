/**
 * Validates any manifest canarykit writes against schemas that are independent of the construct
 * code: the typed models of `kubernetes-models`, `@kubernetes-models/istio` and
 * `@kubernetes-models/gateway-api`, plus (strict, unknown fields rejected the way
 * `kubectl apply --validate=strict` does) the Kubernetes 1.28 OpenAPI definitions and the Istio,
 * Gateway API and Flux CRD schemas. Those come from test/schemas/, generated from ../shared/crds by
 * `npm run import` and committed, so a clone on its own validates too. A kind with no schema is an
 * error, so nothing slips through unvalidated.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import * as gatewayV1 from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import * as gatewayV1beta1 from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1';
import * as istioV1beta1 from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { Json } from '../../src/constructs/workload/deployment-json';

/** The committed schemas (scripts/gen-test-schemas.ts). */
const SCHEMAS = path.resolve(__dirname, '..', 'schemas');

/** kubernetes-models modules by apiVersion (only the groups canarykit emits or reads). */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'batch/v1': batchV1,
  'networking.k8s.io/v1': networkingV1,
  'networking.istio.io/v1beta1': istioV1beta1,
  'gateway.networking.k8s.io/v1': gatewayV1,
  'gateway.networking.k8s.io/v1beta1': gatewayV1beta1,
};

type Model = new (data: Json) => { validate(): void };

/** Validates with the kubernetes-models class of `apiVersion`/`kind`; throws when invalid or unknown. */
export function validateWithModels(obj: Json): void {
  const Model = MODELS[obj.apiVersion]?.[obj.kind] as Model | undefined;
  if (typeof Model !== 'function' || typeof Model.prototype?.validate !== 'function') {
    throw new Error(`no kubernetes-models schema for ${obj.apiVersion} ${obj.kind}`);
  }
  new Model(obj).validate();
}

// ---------------------------------------------------------------------------------------------
// strict JSON-schema validation (Kubernetes 1.28 definitions, CRD schemas)

/** Marks every object schema with `properties` as closed, unless it preserves unknown fields. */
function closeObjects(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(closeObjects);
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Record<string, any>;
  if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) s.additionalProperties = false;
  for (const v of Object.values(s)) closeObjects(v);
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T/);
  ajv.addFormat('duration', () => true);
  ajv.addFormat('hostname', () => true);
  ajv.addFormat('uri', () => true);
  return ajv;
}

let k8s: { ajv: Ajv; byGvk: Map<string, string> } | undefined;

function k8sSchemas(): { ajv: Ajv; byGvk: Map<string, string> } {
  if (k8s) return k8s;
  const defs = JSON.parse(fs.readFileSync(`${SCHEMAS}/k8s-v1.28.0.json`, 'utf8')).definitions as Record<string, any>;
  closeObjects(defs);
  const byGvk = new Map<string, string>();
  for (const [key, def] of Object.entries(defs)) {
    for (const g of def['x-kubernetes-group-version-kind'] ?? []) byGvk.set(`${g.group ? `${g.group}/` : ''}${g.version}/${g.kind}`, key);
  }
  const ajv = newAjv();
  ajv.addSchema({ $id: 'k8s-1.28', definitions: defs });
  k8s = { ajv, byGvk };
  return k8s;
}

let crds: Map<string, ValidateFunction> | undefined;

/**
 * Kinds whose CRD (apiextensions.k8s.io/v1beta1, `preserveUnknownFields` left at its default true)
 * makes the API server keep unknown fields without reporting them, so strict field validation has
 * nothing to refuse: App Mesh controller v0.5.0's hand-written schema lacks fields its own Go types
 * (and Flagger's pkg/apis/appmesh/v1beta1) have, e.g. `routes[].name`, `routes[].priority` and
 * `backends[].virtualService`. Their known fields are still checked (types, enums, required).
 */
const UNPRUNED = new Set(['appmesh.k8s.aws/v1beta1/VirtualNode', 'appmesh.k8s.aws/v1beta1/VirtualService']);

function crdSchemas(): Map<string, ValidateFunction> {
  if (crds) return crds;
  crds = new Map();
  const ajv = newAjv();
  const all = JSON.parse(fs.readFileSync(`${SCHEMAS}/crds.json`, 'utf8')).schemas as Record<string, any>;
  for (const [gvk, schema] of Object.entries(all)) {
    // The API server always accepts these at the root even when a CRD schema omits them (Istio's do).
    schema.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...schema.properties };
    if (!UNPRUNED.has(gvk)) closeObjects(schema);
    crds.set(gvk, ajv.compile(schema));
  }
  return crds;
}

const formatErrors = (errors: ValidateFunction['errors']): string =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; ');

/**
 * Validates strictly against the Kubernetes 1.28 definitions (core kinds) or the CRD schema
 * (Istio, Gateway API); returns the problems, throws for a kind with no schema.
 */
export function strictSchemaProblems(obj: Json): string[] {
  const gvk = `${obj.apiVersion}/${obj.kind}`;
  const key = k8sSchemas().byGvk.get(gvk);
  let validate: ValidateFunction | undefined;
  if (key) validate = k8sSchemas().ajv.getSchema(`k8s-1.28#/definitions/${key}`);
  else validate = crdSchemas().get(gvk);
  if (!validate) throw new Error(`no Kubernetes 1.28 or CRD schema for ${obj.apiVersion} ${obj.kind}`);
  if (validate(obj)) return [];
  return [formatErrors(validate.errors)];
}

/** Problems of one manifest under every validator, prefixed with what it is; [] when valid. */
export function manifestProblems(obj: Json): string[] {
  const what = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`;
  const problems: string[] = [];
  // kubernetes-models has no package for some CRD groups (SMI); their CRD schema below still applies.
  if (MODELS[obj.apiVersion]) {
    try {
      validateWithModels(obj);
    } catch (e) {
      problems.push(`${what}: kubernetes-models: ${(e as Error).message}`);
    }
  }
  for (const p of strictSchemaProblems(obj)) problems.push(`${what}: strict schema: ${p}`);
  return problems;
}
