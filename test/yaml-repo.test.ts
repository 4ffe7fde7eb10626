import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli';
import { healthyPodinfo } from './support/driver-fixture';
import { GitFixture, createGitFixture } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';
import { podinfoCanaryYaml, podinfoDeploymentYaml } from './support/flagger-yaml';

/*
 * A YAML-only repository: Flagger resources under apps/, `canarykit compile` as the synth command
 * in canarykit.yaml, and the step driver working exactly as in a cdk8s repository.
 */

const ROOT = resolve(__dirname, '..');
const SYNTH = `${join(ROOT, 'node_modules/.bin/tsx')} ${join(ROOT, 'test/support/canarykit-cli.ts')} compile -f apps -o dist --state state`;

function deployment(image: string): string {
  return podinfoDeploymentYaml('yamlrepo', image);
}

const CANARY = podinfoCanaryYaml('yamlrepo');

const cli = runCli;

describeWithPrometheus('YAML-only repository', () => {
  let prom: PrometheusServer;
  let fx: GitFixture;
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    healthyPodinfo(w, 'yamlrepo');
    prom = await startPrometheus(String(w));
    fx = createGitFixture({
      'apps/podinfo/deployment.yaml': deployment('podinfo:1.0.0'),
      'apps/podinfo/canary.yaml': CANARY,
      'canarykit.yaml': `synth: ${SYNTH}\nprometheus:\n  address: ${prom.url}\n`,
    });
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    fx?.cleanup();
  });

  it('rolls a Flagger YAML canary forward with canarykit compile as the synth command', async () => {
    const repo = fx.clone('yaml');
    const step = (t: number) => cli(['step', '--repo', repo], at(t));
    expect((await step(60)).code).toBe(0);
    await step(120);
    fx.pushConcurrently({ 'apps/podinfo/deployment.yaml': deployment('podinfo:1.1.0') }, 'release 1.1.0');
    for (const t of [130, 190, 250, 310, 370, 430, 490]) expect((await step(t)).code).toBe(0);
    const subjects = fx.remoteGit('log', '--format=%s', 'main').split('\n').reverse().filter((s) => s.startsWith('canary('));
    expect(subjects.map((s) => s.replace(/rev [0-9a-f]{8}/, 'rev X'))).toEqual([
      'canary(yamlrepo/podinfo): initialize: create the primary',
      'canary(yamlrepo/podinfo): initialized: primary ready',
      'canary(yamlrepo/podinfo): start analysis of rev X',
      'canary(yamlrepo/podinfo): advance weight 0 -> 10',
      'canary(yamlrepo/podinfo): advance weight 10 -> 20',
      'canary(yamlrepo/podinfo): promote rev X',
      'canary(yamlrepo/podinfo): finalise: all traffic on the primary',
      'canary(yamlrepo/podinfo): succeeded',
    ]);
    const primary = parse(fx.remoteGit('show', 'main:dist/yamlrepo/podinfo/deployment-podinfo-primary.yaml'));
    expect(primary.spec.template.spec.containers[0].image).toBe('podinfo:1.1.0');
    expect(parse(fx.remoteGit('show', 'main:dist/yamlrepo/podinfo/deployment-podinfo.yaml')).spec.replicas).toBe(0);
    // The Flagger resource itself is input only: it never reaches the cluster manifests.
    const files = fx.remoteGit('ls-tree', '-r', '--name-only', 'main', '--', 'dist').split('\n');
    expect(files).toContain('dist/yamlrepo/podinfo/virtualservice-podinfo.yaml');
    for (const f of files) expect(fx.remoteGit('show', `main:${f}`)).not.toContain('flagger.app/v1beta1');
  });

  it('a broken Flagger spec fails the tick with exit 2 and commits nothing', async () => {
    fx.pushConcurrently({ 'apps/podinfo/canary.yaml': CANARY.replace('maxWeight: 20', 'maxWeight: 150') }, 'typo');
    const head = fx.remoteGit('rev-parse', 'main');
    const r = await cli(['step', '--repo', fx.clone('broken2')], at(600));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/spec\.analysis\.maxWeight/);
    expect(fx.remoteGit('rev-parse', 'main')).toBe(head);
  });
});
