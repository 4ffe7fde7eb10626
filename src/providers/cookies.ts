import { CookieAttributes } from '../model/plan';

/**
 * `Set-Cookie` value for a sticky cookie, attributes in the order of Flagger's
 * SessionAffinity.BuildCookie (pkg/apis/flagger/v1beta1/canary.go).
 */
export function canaryCookieHeader(cookie: string, maxAge: number, a: CookieAttributes = {}): string {
  let header = `${cookie}; Max-Age=${maxAge}`;
  if (a.domain) header += `; Domain=${a.domain}`;
  if (a.httpOnly) header += '; HttpOnly';
  if (a.partitioned) header += '; Partitioned';
  if (a.path) header += `; Path=${a.path}`;
  if (a.sameSite) header += `; SameSite=${a.sameSite}`;
  if (a.secure) header += '; Secure';
  return header;
}

/** Header regex Flagger matches a sticky cookie with. */
export function cookieRegex(cookie: string): string {
  const [name, value] = cookie.split('=');
  return `.*${name}.*${value}.*`;
}
