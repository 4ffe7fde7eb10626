import { Problem } from '../errors';
import { Json } from '../constructs/workload/deployment-json';

// The settings Flagger's Gloo router copies from the config Upstream (`spec.upstreamRef`) into the
// Upstreams it generates (src: pkg/router/gloo.go getGlooUpstreamKubeService), read through the
// narrow Go types of pkg/apis/gloo/v1/types.go. Everything there is `omitempty`: zero values
// vanish, objects (Go pointers) stay even when empty. A field those types lack is dropped by
// Flagger without a word; canarykit refuses it instead, so no setting is lost silently.

type Scalar = 'string' | 'uint32' | 'int32' | 'float' | 'bool' | 'strings';
interface Shape {
  readonly [key: string]: Scalar | Shape;
}

const SLOW_START: Shape = { slowStartWindow: 'string', aggression: 'float', minWeightPercent: 'float' };

/** UpstreamSpec minus `kube`, which Flagger writes itself. */
const COPIED: Shape = {
  sslConfig: {
    sni: 'string',
    verifySubjectAltName: 'strings',
    parameters: { minimumProtocolVersion: 'int32', maximumProtocolVersion: 'int32', cipherSuites: 'strings', ecdhCurves: 'strings' },
    alpnProtocols: 'strings',
    sds: {
      targetUri: 'string',
      certificatesSecretName: 'string',
      validationContextName: 'string',
      callCredentials: { fileCredentialSource: { tokenFileName: 'string', header: 'string' } },
      clusterName: 'string',
    },
    secretRef: { name: 'string', namespace: 'string' },
    sslFiles: { tlsCert: 'string', tlsKey: 'string', rootCa: 'string' },
  },
  circuitBreakers: { maxConnections: 'uint32', maxPendingRequests: 'uint32', maxRequests: 'uint32', maxRetries: 'uint32' },
  connectionConfig: {
    maxRequestsPerConnection: 'uint32',
    connectTimeout: 'string',
    tcpKeepalive: { keepaliveProbes: 'uint32', keepaliveTime: 'string', keepaliveInterval: 'string' },
    perConnectionBufferLimitBytes: 'uint32',
    commonHttpProtocolOptions: { idleTimeout: 'string', maxHeadersCount: 'uint32', maxStreamDuration: 'string', headersWithUnderscoresAction: 'uint32' },
  },
  loadBalancerConfig: { roundRobin: { slowStartConfig: SLOW_START }, leastRequest: { slowStartConfig: SLOW_START, choiceCount: 'uint32' } },
  useHttp2: 'bool',
  initialStreamWindowSize: 'uint32',
  initialConnectionWindowSize: 'uint32',
};

/**
 * Fields Flagger copies that never reach the cluster: the Upstream CRD (Gloo 1.21) has no such
 * field, so the API server prunes what Flagger writes.
 */
const PRUNED: Readonly<Record<string, string>> = {
  // Go reads `httpProxyHostname` case-insensitively and writes its own tag, with a capital N.
  httpProxyHostname: 'Flagger writes it as httpProxyHostName, a field the Upstream CRD does not have (the API server prunes it)',
  labels: 'the Upstream CRD has no spec.labels (the API server prunes it from the Upstreams Flagger writes)',
};

/** The copied settings, as Flagger writes them. */
export type CopiedUpstreamSpec = Json;

const WHY_DROPPED = "Flagger's Gloo router does not copy it (its Upstream type lacks the field) and would drop it silently; remove it from the config Upstream or set it on the generated Upstreams by other means";

/**
 * The part of a config Upstream's spec Flagger copies (and the cluster keeps), and problems for settings it would lose.
 * Top-level fields outside COPIED (static hosts, health checks ...) are not copied by design
 * (Flagger's docs list the copied ones) and are not reported.
 */
export function copyUpstreamConfig(spec: Json | undefined, where: string): { spec: CopiedUpstreamSpec; problems: Problem[] } {
  const problems: Problem[] = [];
  const out: Json = {};
  for (const [key, value] of Object.entries(spec ?? {})) {
    const lost = PRUNED[key];
    if (lost !== undefined) {
      if (value !== null && value !== '') problems.push({ path: where, message: `spec.${key} of the config Upstream is lost: ${lost}; remove it` });
      continue;
    }
    const shape = COPIED[key];
    if (shape === undefined) continue;
    const copied = project(value, shape, `spec.${key}`, where, problems);
    if (copied !== undefined) out[key] = copied;
  }
  return { spec: out, problems };
}

function project(value: unknown, shape: Scalar | Shape, field: string, where: string, problems: Problem[]): unknown {
  if (value === null || value === undefined) return undefined;
  const bad = (expected: string): undefined => {
    problems.push({ path: where, message: `${field} of the config Upstream must be ${expected} for Flagger to read it (got ${JSON.stringify(value)}); Flagger fails to read the whole Upstream otherwise` });
    return undefined;
  };
  if (typeof shape === 'object') {
    if (typeof value !== 'object' || Array.isArray(value)) return bad('an object');
    const out: Json = {};
    for (const [k, v] of Object.entries(value as Json)) {
      if (shape[k] === undefined) {
        problems.push({ path: where, message: `${field}.${k} of the config Upstream: ${WHY_DROPPED}` });
        continue;
      }
      const copied = project(v, shape[k], `${field}.${k}`, where, problems);
      if (copied !== undefined) out[k] = copied;
    }
    return out;
  }
  switch (shape) {
    case 'string':
      return typeof value === 'string' ? value || undefined : bad('a string');
    case 'bool':
      return typeof value === 'boolean' ? value || undefined : bad('true or false');
    case 'float':
      return typeof value === 'number' ? value || undefined : bad('a number');
    case 'uint32':
    case 'int32': {
      const [min, max] = shape === 'uint32' ? [0, 2 ** 32 - 1] : [-(2 ** 31), 2 ** 31 - 1];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return bad(`an integer from ${min} to ${max}`);
      return value || undefined;
    }
    case 'strings':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return bad('a list of strings');
      return value.length ? value : undefined;
  }
}
