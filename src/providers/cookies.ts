/** `Set-Cookie` value for the sticky canary cookie (Flagger §2.6). */
export function canaryCookieHeader(cookie: string, maxAge: number): string {
  return `${cookie}; Max-Age=${maxAge}`;
}

/** Header regex Flagger matches a sticky cookie with. */
export function cookieRegex(cookie: string): string {
  const [name, value] = cookie.split('=');
  return `.*${name}.*${value}.*`;
}
