import { SessionAffinityState } from '../stages/state';
import { RouterInput } from './router';

/** `Set-Cookie` value for the sticky canary cookie (Flagger §2.6). */
export function canaryCookieHeader(cookie: string, maxAge: number): string {
  return `${cookie}; Max-Age=${maxAge}`;
}

/** The cookie currently assigned to canary sessions, when the canary carries traffic. */
export function activeCookies(input: RouterInput): SessionAffinityState | undefined {
  return input.analysis.sessionAffinity ? input.cookies : undefined;
}

/** Header regex Flagger matches a sticky cookie with. */
export function cookieRegex(cookie: string): string {
  const [name, value] = cookie.split('=');
  return `.*${name}.*${value}.*`;
}
