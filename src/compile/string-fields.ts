/**
 * Fields Kubernetes declares as text (`map[string]string` or `string`) where YAML 1.1 turns a plain
 * scalar into something else: `yes`/`on` become booleans, `0644` an octal number, `1` a number. The API
 * server rejects those objects ("cannot unmarshal bool into ... of type string"), so compile refuses
 * them up front, naming the field and the quoted spelling, instead of writing `true` into git.
 */

type Json = unknown;
type Segment = string | number;

/** A field that must be text but holds another scalar type. */
export interface NonStringField {
  readonly path: readonly Segment[];
  readonly value: boolean | number;
}

/** Keys whose value is a map of strings wherever they appear under the given parent key. */
const STRING_MAPS_UNDER: Readonly<Record<string, readonly string[]>> = {
  metadata: ['labels', 'annotations'],
  selector: ['matchLabels'],
};
/** Keys whose value is a map of strings wherever they appear. */
const STRING_MAPS_ANYWHERE: readonly string[] = ['nodeSelector'];

/** Every text field of `obj` (one Kubernetes object) that holds a boolean or a number. */
export function nonStringFields(obj: Json): NonStringField[] {
  const found: NonStringField[] = [];
  if (!isRecord(obj)) return found;
  const kind = obj.kind;
  if (kind === 'ConfigMap') {
    checkMap(obj.data, ['data'], found);
  }
  if (kind === 'Service' && isRecord(obj.spec)) checkMap(obj.spec.selector, ['spec', 'selector'], found);
  walk(obj, [], found);
  return found;
}

function walk(node: Json, path: readonly Segment[], found: NonStringField[]): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => walk(v, [...path, i], found));
    return;
  }
  if (!isRecord(node)) return;
  const parent = path[path.length - 1];
  for (const [k, v] of Object.entries(node)) {
    const here = [...path, k];
    const underParent = typeof parent === 'string' ? STRING_MAPS_UNDER[parent] : undefined;
    if (underParent?.includes(k) || STRING_MAPS_ANYWHERE.includes(k)) {
      checkMap(v, here, found);
      continue;
    }
    // A container's env entry: `value` is text (`name: DEBUG, value: yes` is the boolean true).
    if (k === 'value' && parent !== undefined && typeof parent === 'number' && path[path.length - 2] === 'env') {
      if (typeof v === 'boolean' || typeof v === 'number') found.push({ path: here, value: v });
      continue;
    }
    walk(v, here, found);
  }
}

function checkMap(map: Json, path: readonly Segment[], found: NonStringField[]): void {
  if (!isRecord(map)) return;
  for (const [k, v] of Object.entries(map)) {
    if (typeof v === 'boolean' || typeof v === 'number') found.push({ path: [...path, k], value: v });
  }
}

function isRecord(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
