import { parse } from 'yaml';
import { step } from '../../src/driver/driver';
import { CanaryState } from '../../src/model/state';
import { AppSpec, TEST_CONFIG, appJson, realDeps } from './driver-fixture';
import { createGitFixture } from './git';
import { at } from './prometheus';

// One podinfo canary on a provider, driven end to end by the step driver against a real git remote
// and a real Prometheus: the shape every provider's driver test (test/driver-<provider>.test.ts) uses.

type CanarySpec = AppSpec['canaries'][number];

/** A canary's repository, its clock and what the remote holds after each tick. */
export interface ProviderScenario {
  /** One `step --all` tick, `advanceSeconds` after the previous one. */
  tick(advanceSeconds?: number): ReturnType<typeof step>;
  /** A person pushes a new image (podinfo:6.1.0) while the driver works. */
  release(): void;
  /** The state file on the remote's main. */
  state(): CanaryState;
  /** A manifest of the canary's folder on the remote's main, parsed. */
  routed(file: string): any;
}

/**
 * `namespace`'s podinfo on `provider` (stepWeight 20 up to 40, threshold 2), Prometheus at `promUrl()`;
 * the fixture's cleanup is pushed onto `cleanups`.
 */
export function providerScenario(namespace: string, provider: CanarySpec['provider'], promUrl: () => string, cleanups: (() => unknown)[]): ProviderScenario {
  let spec: CanarySpec = { namespace, image: 'podinfo:6.0.0', provider, stepWeight: 20, maxWeight: 40, threshold: 2 };
  const fx = createGitFixture({ 'app.json': appJson({ canaries: [spec] }) });
  const clone = fx.clone('driver');
  cleanups.push(() => fx.cleanup());
  const clock = { now: at(60) };
  return {
    tick: (advanceSeconds = 60) => {
      clock.now = new Date(clock.now.getTime() + advanceSeconds * 1000);
      return step({ repoDir: clone, config: TEST_CONFIG, select: { all: true } }, realDeps(clone, promUrl(), clock));
    },
    release: () => {
      spec = { ...spec, image: 'podinfo:6.1.0' };
      fx.pushConcurrently({ 'app.json': appJson({ canaries: [spec] }) }, 'release podinfo:6.1.0');
    },
    state: (): CanaryState => JSON.parse(fx.remoteGit('show', `main:state/${namespace}/podinfo.json`)),
    routed: (file: string): any => parse(fx.remoteGit('show', `main:dist/${namespace}/podinfo/${file}`)),
  };
}

/**
 * Bootstrap, Initialized, a release, then ticks until the run ends: the phase, the committed weights
 * (`weights` reads them from the routing object) and failed checks after each tick, repeats dropped.
 */
export async function runRollout(s: ProviderScenario, weights: (s: ProviderScenario) => number[]): Promise<string[]> {
  await s.tick(0); // bootstrap
  await s.tick(); // Initialized
  s.release();
  await s.tick(0); // syncs the release
  const seen: string[] = [];
  for (let i = 0; i < 12; i++) {
    await s.tick();
    const st = s.state();
    const entry = `${st.phase} ${weights(s).join('/')}${st.failedChecks ? ` failedChecks=${st.failedChecks}` : ''}`;
    if (seen.at(-1) !== entry) seen.push(entry);
    if (st.phase === 'Succeeded' || st.phase === 'Failed') break;
  }
  return seen;
}
