import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCli } from './support/cli';
import { healthyPodinfo } from './support/driver-fixture';
import { podinfoCanaryYaml as canary, podinfoDeploymentYaml as deployment } from './support/flagger-yaml';
import { GitFixture, createGitFixture } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * What a tick reads and commits when only some canaries move (issue 14), with the in-process
 * `canarykit compile` synth, a real Prometheus and a bare remote:
 * - a stage whose synth wrote only the staged canaries' folders makes no "sync" commit (nothing
 *   else under dist/ can have changed), while a tick after an app change still does;
 * - `step --canary` reads only that canary's plan: another canary's broken plan does not stop it,
 *   and an unknown canary is still refused with the known ones listed.
 */


describeWithPrometheus('scoped commits and reads of a tick (driver.ts readEntries, publish-push.ts sync commit)', () => {
  let prom: PrometheusServer;
  let fx: GitFixture;
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    healthyPodinfo(w, 'one');
    healthyPodinfo(w, 'two');
    prom = await startPrometheus(String(w));
    fx = createGitFixture({
      'apps/one/deployment.yaml': deployment('one', 'podinfo:1.0.0'),
      'apps/one/canary.yaml': canary('one'),
      'apps/two/deployment.yaml': deployment('two', 'podinfo:1.0.0'),
      'apps/two/canary.yaml': canary('two'),
      'canarykit.yaml': `synth: canarykit compile -f apps/\nprometheus:\n  address: ${prom.url}\n`,
    });
    vi.stubEnv('PATH', '/usr/local/bin:/usr/bin:/bin');
  }, 30_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await prom?.stop();
    fx?.cleanup();
  });

  const subjectsSince = (sha: string): string[] => fx.remoteGit('log', '--format=%s', `${sha}..main`).split('\n').filter(Boolean).reverse();
  const filesOf = (sha: string): string[] => fx.remoteGit('show', '--format=', '--name-only', sha).split('\n').filter(Boolean).sort();

  it('a stage tick whose synth wrote only the staged folders commits the stages and no sync commit', async () => {
    const repo = fx.clone('stages');
    // First tick: the output is synthesized from the app (a sync commit) and both canaries initialize.
    const first = await runCli(['step', '--repo', repo, '--all'], at(60));
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/synced dist\/ with the app/);
    const afterInit = fx.remoteGit('rev-parse', 'main');
    // Second tick: canarykit's own head, so only the two state files change, and only their folders are rendered.
    const second = await runCli(['step', '--repo', repo, '--all'], at(120));
    expect(second.code).toBe(0);
    expect(second.err).not.toMatch(/synced/);
    const subjects = subjectsSince(afterInit);
    expect(subjects).toHaveLength(2);
    expect(subjects.every((s) => /^canary\((one|two)\/podinfo\): /.test(s))).toBe(true);
    expect(subjects.some((s) => s.includes('sync'))).toBe(false);
    // Each stage commit holds its own canary's state file and folder, nothing else.
    for (const sha of fx.remoteGit('rev-list', `${afterInit}..main`).split('\n')) {
      const files = filesOf(sha);
      const ns = files[0].split('/')[1];
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((f) => f === `state/${ns}/podinfo.json` || f.startsWith(`dist/${ns}/podinfo/`)), files.join(' ')).toBe(true);
    }
  });

  it('after an app change the tick still syncs the output with the app', async () => {
    const before = fx.remoteGit('rev-parse', 'main');
    // A release of two (its stage commit holds its folder) and an object of no canary (only a sync commit can hold it).
    fx.pushConcurrently(
      { 'apps/two/deployment.yaml': deployment('two', 'podinfo:1.1.0'), 'apps/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: extra, namespace: two }\ndata: { a: b }\n' },
      'release two, add a ConfigMap',
    );
    const r = await runCli(['step', '--repo', fx.clone('after-app-change'), '--all'], at(180));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/synced dist\/ with the app/);
    const subjects = subjectsSince(before);
    expect(subjects).toEqual(['release two, add a ConfigMap', 'canary(two/podinfo): start analysis of rev ' + subjects[1].split(' ').at(-1), 'canarykit: sync dist/ with the app and the state files']);
    expect(filesOf('main').some((f) => f.startsWith('dist/') && f.endsWith('configmap-extra.yaml'))).toBe(true);
  });

  it('step --canary reads only that canary: a broken plan of another canary does not stop it; an unknown canary lists the known ones', async () => {
    const repo = fx.clone('one-canary');
    // A broken plan of another canary's folder, untracked in the clone (the head is canarykit's: no synth rewrites it).
    mkdirSync(join(repo, 'dist/three/podinfo'), { recursive: true });
    writeFileSync(join(repo, 'dist/three/podinfo/canary.plan.json'), '{ not json');
    const r = await runCli(['step', '--repo', repo, '--canary', 'one/podinfo', '--dry-run'], at(190));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^one\/podinfo: /m);
    expect(r.out).not.toMatch(/(two|three)\/podinfo/);
    // --all reads every plan, and refuses the broken one naming it.
    const all = await runCli(['step', '--repo', repo, '--all', '--dry-run'], at(190));
    expect(all.code).not.toBe(0);
    expect(all.err).toMatch(/dist\/three\/podinfo\/canary\.plan\.json/);
    const unknown = await runCli(['step', '--repo', fx.clone('unknown'), '--canary', 'three/podinfo', '--dry-run'], at(190));
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toMatch(/no canary three\/podinfo in the synth output \(known: one\/podinfo, two\/podinfo\)/);
  });
});
