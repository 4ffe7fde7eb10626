/**
 * The one owner of removing secrets from text bound for logs, stderr, commit messages and pull
 * requests. Callers redact the whole text first and shorten it afterwards ({@link excerpt}): a
 * token cut in half by a length limit no longer matches and would leak its first characters.
 */

const MASK = '***';

/**
 * Removes credentials from every URL in `text`: `https://user:token@host` becomes
 * `https://user:***@host`, and a bare token (`https://token@host`) becomes `https://***@host`.
 */
export function redactUrlCredentials(text: string): string {
  // Greedy up to the last '@' before the host: passwords may contain a literal '@'.
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/\s'"]*)@/gi, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
    return /^https?:\/\/$/i.test(scheme) ? `${scheme}${MASK}@` : `${scheme}${userinfo}@`;
  });
}

/** The forms a secret takes on the wire: as is, URL-encoded, base64 (Basic auth), and JSON-escaped. */
function formsOf(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), JSON.stringify(secret).slice(1, -1)];
}

/** Shortest secret prefix masked at the very end of a text (a body cut by the size cap). */
const MIN_TAIL = 4;

/**
 * `text` without URL credentials and without any of `secrets` (in every form of {@link formsOf});
 * a text that ends in the first characters of a secret (a body cut by a size cap) loses that tail too.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = redactUrlCredentials(text);
  const forms = [...new Set(secrets.filter((s): s is string => !!s).flatMap(formsOf))].sort((a, b) => b.length - a.length);
  for (const f of forms) out = out.split(f).join(MASK);
  for (const f of forms) {
    for (let n = Math.min(f.length - 1, out.length); n >= MIN_TAIL; n--) {
      if (out.endsWith(f.slice(0, n))) {
        out = `${out.slice(0, out.length - n)}${MASK}`;
        break;
      }
    }
  }
  return out;
}

/** Redacts, then collapses whitespace, then shortens to `max` characters (in that order). */
export function excerpt(text: string, max: number, secrets: readonly (string | undefined)[] = []): string {
  const flat = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
