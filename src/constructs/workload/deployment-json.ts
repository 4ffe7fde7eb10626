/** The plain-JSON shape of the Deployment fields canarykit reads and writes. */
export type Json = Record<string, any>;

export interface DeploymentJson {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: Json[] };
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Json };
    minReadySeconds?: number;
    progressDeadlineSeconds?: number;
    revisionHistoryLimit?: number;
    strategy?: Json;
    [k: string]: unknown;
  };
}

/** Deep copy through JSON: manifests are plain data. */
export function clone<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** Removes keys containing `toolkit.fluxcd.io` (Flagger drops them from copied metadata). */
export function withoutFluxKeys(map: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) if (!k.includes('toolkit.fluxcd.io')) out[k] = v;
  return out;
}

/** undefined for an empty map, so no empty `labels: {}` lands in manifests. */
export function nonEmpty<T extends object>(map: T | undefined): T | undefined {
  return map && Object.keys(map).length > 0 ? map : undefined;
}
