/**
 * The one owner of which canary names and namespaces canarykit accepts. The construct, `compile`,
 * the state store, the plan reader and every CLI command ask here, so a name the driver can drive
 * is accepted everywhere and a name that could escape a folder, overflow a file name or change a
 * PromQL query is rejected everywhere, before anything is written.
 *
 * The rules are Kubernetes' rules for the objects derived from the names (Flagger's names):
 * - namespace: a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63), as Kubernetes requires;
 * - canary name: a DNS-1123 label of at most 63. Flagger's Canary may be a DNS-1123 subdomain, but
 *   canarykit also uses the name as a folder, a state file name, a git branch segment and a PromQL
 *   label value, so dots are refused (see README "Names");
 * - a name that gets `-primary`/`-canary` appended and becomes a Service (the apex service, which
 *   defaults to the target's name): a DNS-1035 label of at most 55, so the suffixed names fit 63;
 * - a target Deployment / ConfigMap whose `-primary` copy is emitted: a DNS-1123 subdomain of at most
 *   253 - 8 characters;
 * - the selector label value, which becomes `<value>-primary` on the primary pods: a label value of
 *   at most 63 - 8 characters.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Longest suffix canarykit appends to a derived name (`-primary`). */
export const SUFFIX_LENGTH = '-primary'.length;

/** Shown in messages so the user sees the limit and an example of an accepted value. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `"${text.slice(0, 60)}..." (${text.length} characters)` : `"${text}"`;
}

/** Why `value` is not a Kubernetes namespace, or undefined when it is one. */
export function namespaceProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 63 || !DNS1123_LABEL.test(value)) {
    return `namespace must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters, e.g. "prod-apps" (got ${show(value)})`;
  }
  return undefined;
}

/** Why `value` is not an accepted canary name, or undefined when it is one. */
export function canaryNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 63 || !DNS1123_LABEL.test(value)) {
    return `canary name must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters, e.g. "podinfo" (got ${show(value)})`;
  }
  return undefined;
}

/** Why `value` cannot name a Service that also gets `-primary`/`-canary` copies. */
export function serviceNameProblem(value: unknown): string | undefined {
  const max = 63 - SUFFIX_LENGTH;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !DNS1035_LABEL.test(value)) {
    return `must be a DNS-1035 label (lower-case letters, digits and "-", starting with a letter) of at most ${max} characters so "-primary"/"-canary" fit in 63 (got ${show(value)})`;
  }
  return undefined;
}

/** Why `value` cannot name an object (Deployment, ConfigMap, HPA) that gets a `-primary` copy. */
export function suffixedObjectNameProblem(value: unknown): string | undefined {
  const max = 253 - SUFFIX_LENGTH;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !DNS1123_SUBDOMAIN.test(value)) {
    return `must be a DNS-1123 subdomain (lower-case letters, digits, "-" and ".") of at most ${max} characters so "-primary" fits (got ${show(value)})`;
  }
  return undefined;
}

/** Why `value` cannot be a selector label value that gets `-primary` appended. */
export function selectorValueProblem(value: unknown): string | undefined {
  const max = 63 - SUFFIX_LENGTH;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !LABEL_VALUE.test(value)) {
    return `must be a label value (letters, digits, "-", "_" and ".", starting and ending with a letter or digit) of at most ${max} characters so "-primary" fits in 63 (got ${show(value)})`;
  }
  return undefined;
}

/** Problems of a `namespace/name` pair, with the field paths given. */
export function canaryIdProblems(namespace: unknown, name: unknown, at: { namespace: string; name: string }): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const ns = namespaceProblem(namespace);
  if (ns) out.push({ path: at.namespace, message: ns });
  const n = canaryNameProblem(name);
  if (n) out.push({ path: at.name, message: n });
  return out;
}

/** `NAMESPACE/NAME` as typed on the command line, split; undefined parts when it has no single `/`. */
export function splitCanaryId(id: string): { namespace?: string; name?: string } {
  const parts = id.split('/');
  return parts.length === 2 ? { namespace: parts[0], name: parts[1] } : {};
}
