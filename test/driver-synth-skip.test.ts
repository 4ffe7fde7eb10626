/*
 * The driver's first synth after someone else's commit (driver.ts ownOutputStillCurrent, issue 14):
 * skipped when the synth is the in-process `canarykit compile` and none of its paths (-f inputs,
 * stateDir, outdir, canarykit.yaml) changed since canarykit's own newest commit; run otherwise.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildDeps } from '../src/cli';
import { loadConfig } from '../src/adapters/config';
import { synthPaths } from '../src/adapters/synth';
import { DriverDeps, step } from '../src/driver/driver';
import { healthyPodinfo } from './support/driver-fixture';
import { GitFixture, createGitFixture } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';
import { podinfoCanaryYaml, podinfoDeploymentYaml } from './support/flagger-yaml';

it('synthPaths: the paths of an in-process compile, none for any other synth or an input outside the repository', () => {
  expect(synthPaths('canarykit compile -f apps/ -f more.yaml', 'dist', 'state', 'canarykit.yaml')).toEqual(['apps/', 'more.yaml', 'state', 'dist', 'canarykit.yaml']);
  expect(synthPaths('npx tsx src/main.ts', 'dist', 'state', 'canarykit.yaml')).toBeUndefined();
  expect(synthPaths('canarykit compile -f ../elsewhere', 'dist', 'state', 'canarykit.yaml')).toBeUndefined();
  expect(synthPaths('canarykit compile -f /abs/apps', 'dist', 'state', 'canarykit.yaml')).toBeUndefined();
  expect(synthPaths('canarykit compile -f .', 'dist', 'state', 'canarykit.yaml')).toBeUndefined();
});

describeWithPrometheus('the first synth after a person commits', () => {
  let prom: PrometheusServer;
  let fx: GitFixture;
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    healthyPodinfo(w, 'skip');
    prom = await startPrometheus(String(w));
    fx = createGitFixture({
      'apps/podinfo/deployment.yaml': podinfoDeploymentYaml('skip', 'podinfo:1.0.0'),
      'apps/podinfo/canary.yaml': podinfoCanaryYaml('skip'),
      'README.md': 'app\n',
      'canarykit.yaml': `synth: canarykit compile -f apps/\nprometheus:\n  address: ${prom.url}\n`,
    });
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    fx?.cleanup();
  });

  /** One `step --all` at `t` in a fresh clone; the synths it ran (undefined: full, else the scope). */
  async function tick(t: number): Promise<(string[] | undefined)[]> {
    const repo = fx.clone();
    const config = loadConfig(repo);
    process.env.CANARYKIT_NOW = at(t).toISOString();
    const deps = buildDeps(repo, config, { out: () => undefined, err: () => undefined });
    const synths: (string[] | undefined)[] = [];
    const counted: DriverDeps = { ...deps, synth: (scope) => (synths.push(scope?.canaries && [...scope.canaries]), deps.synth(scope)) };
    try {
      await step({ repoDir: repo, config, select: { all: true } }, counted);
    } finally {
      delete process.env.CANARYKIT_NOW;
    }
    return synths;
  }

  it('skips it for a README edit, runs it for an input or canarykit.yaml', async () => {
    expect(await tick(60)).toEqual([undefined, ['skip/podinfo']]); // a person's seed commit: full synth, then the stage
    fx.pushConcurrently({ 'README.md': 'app, edited\n' }, 'docs');
    // Initialized: only the stage's synth; the person's commit touched nothing the compile reads.
    expect(await tick(120)).toEqual([['skip/podinfo']]);
    fx.pushConcurrently({ 'apps/podinfo/deployment.yaml': podinfoDeploymentYaml('skip', 'podinfo:1.1.0') }, 'release');
    expect(await tick(130)).toEqual([undefined, ['skip/podinfo']]);
    fx.pushConcurrently({ 'canarykit.yaml': `synth: canarykit compile -f apps/\nprometheus:\n  address: ${prom.url}\n  timeoutSeconds: 7\n` }, 'config');
    expect((await tick(131))[0]).toBeUndefined();
  }, 60_000);
});
