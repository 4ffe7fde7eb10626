import { parse } from 'yaml';
import { step, StepReport } from '../../src/driver/driver';
import { CanaryState } from '../../src/model/state';
import { TEST_CONFIG, appJson, realDeps } from './driver-fixture';
import { GitFixture, createGitFixture } from './git';
import { at } from './prometheus-server';

/**
 * One canary's repository for the fault tests: a bare remote seeded with app.json for `namespace`,
 * a clone the real driver ticks in, and a clock the test moves (the driver's `now`, which the
 * Prometheus queries are pinned to).
 */
export class OutageScenario {
  readonly fx: GitFixture;
  readonly clone: string;
  readonly clock = { now: at(0) };
  readonly logs: string[] = [];
  constructor(readonly namespace: string, readonly promUrl: () => string, readonly threshold = 2) {
    this.fx = createGitFixture({ 'app.json': appJson({ canaries: [{ namespace, image: 'podinfo:6.0.0', threshold }] }) });
    this.clone = this.fx.clone('driver');
  }
  /** One tick at `seconds` into the data. */
  async tickAt(seconds: number): Promise<StepReport> {
    this.clock.now = at(seconds);
    return step({ repoDir: this.clone, config: TEST_CONFIG, select: { all: true } }, realDeps(this.clone, this.promUrl(), this.clock, this.logs));
  }
  /** Initialize (60 s), Initialized (120 s), release 6.1.0, start (120 s): Progressing at weight 0. */
  async startRun(): Promise<void> {
    await this.tickAt(60);
    await this.tickAt(120);
    this.fx.pushConcurrently({ 'app.json': appJson({ canaries: [{ namespace: this.namespace, image: 'podinfo:6.1.0', threshold: this.threshold }] }) }, 'release 6.1.0');
    await this.tickAt(120);
  }
  /** startRun, then healthy ticks every minute from 180 s until the phase is reached; returns the last tick time. */
  async runUntil(phase: CanaryState['phase']): Promise<number> {
    await this.startRun();
    let t = 120;
    while (this.state().phase !== phase) {
      t += 60;
      if (t > 1200) throw new Error(`never reached ${phase}: ${this.subjects().join(' | ')}`);
      await this.tickAt(t);
    }
    return t;
  }
  head(): string {
    return this.fx.remoteGit('rev-parse', 'main');
  }
  subjects(): string[] {
    return this.fx.remoteGit('log', '--format=%s', 'main').split('\n').reverse();
  }
  /** Full messages of the newest `n` remote commits, oldest first. */
  lastMessages(n: number): string[] {
    return this.fx.remoteGit('log', `-${n}`, '--format=%B%x00', 'main').split('\0').map((m) => m.trim()).filter((m) => m !== '').reverse();
  }
  messages(): string {
    return this.fx.remoteGit('log', '--format=%B', 'main');
  }
  file<T = any>(path: string, rev = 'main'): T {
    const text = this.fx.remoteGit('show', `${rev}:${path}`);
    return path.endsWith('.json') ? JSON.parse(text) : parse(text);
  }
  state(rev = 'main'): CanaryState {
    return this.file(`state/${this.namespace}/podinfo.json`, rev);
  }
  /** VirtualService weights [primary, canary] on the remote. */
  weights(rev = 'main'): number[] {
    const vs = this.file(`dist/${this.namespace}/podinfo/virtualservice-podinfo.yaml`, rev);
    return vs.spec.http[0].route.map((r: { weight: number }) => r.weight);
  }
  replicas(deployment: string, rev = 'main'): number {
    return this.file(`dist/${this.namespace}/podinfo/deployment-${deployment}.yaml`, rev).spec.replicas;
  }
  cleanup(): void {
    this.fx.cleanup();
  }
}
