import { createHash } from 'crypto';

/**
 * JSON with object keys sorted at every level, so equal content always hashes equally whatever
 * the order keys were set in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** 16 hex characters of sha256 over canonical JSON (Flagger's hashes are Go-specific; only equality matters). */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** A revision: the pod template plus the data of every tracked ConfigMap (Flagger §3.9). */
export function computeRevision(template: unknown, configMaps: Record<string, Record<string, string>>): string {
  return contentHash({ template, configMaps });
}

/** A UUID-shaped value derived from a revision, replacing Flagger's random `flagger-id`. */
export function deterministicId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
