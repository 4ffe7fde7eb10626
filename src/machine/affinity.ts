import { createHash } from 'node:crypto';
import { SessionAffinityPlan } from '../model/plan';
import { CanaryState, SessionAffinityState } from '../model/state';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const VALUE_LENGTH = 10;

/**
 * `<cookieName>=<10 letters>`: Flagger draws the letters at random; canarykit derives them from
 * (namespace, name, revision, cookie name) so the same inputs always synthesize the same routes.
 */
export function sessionCookie(cookieName: string, state: Pick<CanaryState, 'namespace' | 'name' | 'canaryRevision'>): string {
  const digest = createHash('sha256').update(`${state.namespace}\0${state.name}\0${state.canaryRevision}\0${cookieName}`).digest();
  let value = '';
  for (let i = 0; i < VALUE_LENGTH; i++) value += LETTERS[digest[i] % LETTERS.length];
  return `${cookieName}=${value}`;
}

/**
 * Session-affinity cookies for a state's routes (reference §2.6): while the canary carries weight
 * it has a cookie (and a primary cookie when configured); when the weight returns to 0 the cookie
 * moves to `previousCookie` so routers can expire it.
 */
export function withSessionAffinity(affinity: SessionAffinityPlan | undefined, state: CanaryState): CanaryState {
  if (!affinity) return state;
  const current = state.sessionAffinity ?? {};
  let next: SessionAffinityState;
  if (state.canaryWeight > 0) {
    next = { ...current, cookie: current.cookie ?? sessionCookie(affinity.cookieName, state) };
    if (affinity.primaryCookieName) next.primaryCookie = current.primaryCookie ?? sessionCookie(affinity.primaryCookieName, state);
  } else if (current.cookie !== undefined) {
    next = { previousCookie: current.cookie };
  } else {
    return state;
  }
  return { ...state, sessionAffinity: next };
}
