import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { healthyPodinfo } from './support/driver-fixture';
import { GitFixture, createGitFixture, git, isolatedGitEnv } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';
import { podinfoCanaryYaml, podinfoDeploymentYaml } from './support/flagger-yaml';

/*
 * README "Install" and "Quick start without TypeScript", as a new user runs them: `npm pack`, the
 * tarball installed globally into a temporary prefix, and only that installed `canarykit` used in
 * a YAML-only repository (init, a Flagger canary in apps/, a bare remote, real Prometheus) until
 * the rollout is Succeeded. Nothing here imports the sources.
 */

const ROOT = resolve(__dirname, '..');
const NS = 'quickstart';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

const deployment = (image: string): string => podinfoDeploymentYaml(NS, image);

const CANARY = podinfoCanaryYaml(NS);

describeWithPrometheus('npm pack, npm install -g, and the YAML-only quick start with the installed CLI', () => {
  let work: string;
  let prefix: string;
  let prom: PrometheusServer;
  let fx: GitFixture;
  let gitEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'canarykit-install-'));
    prefix = join(work, 'prefix');
    // The package as published: `npm pack` (lib/ is built by `npm test` before vitest runs).
    if (!readdirSync(ROOT).includes('lib')) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    expect(tarball).toBe(`canarykit-${pkg.version}.tgz`);
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], { cwd: work, stdio: 'pipe' });

    const w = new OpenMetricsWriter();
    healthyPodinfo(w, NS);
    prom = await startPrometheus(String(w));
    fx = createGitFixture({ 'README.md': 'deploy repository\n' });
    const home = join(work, 'home');
    mkdirSync(home);
    gitEnv = isolatedGitEnv(home);
  }, 600_000);
  afterAll(async () => {
    await prom?.stop();
    fx?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The installed `canarykit`, found on PATH like a user's shell would, from `cwd`. */
  function canarykit(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
    return new Promise((done, fail) => {
      execFile('canarykit', args, { cwd, encoding: 'utf8', env: { ...gitEnv, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, ...env } }, (e, out, err) => {
        if (e && typeof e.code !== 'number') return fail(e);
        done({ code: e ? (e.code as number) : 0, out, err });
      });
    });
  }

  it('installs a working canarykit that takes a Flagger canary to Succeeded', async () => {
    // The installed bin is the packed one, not this checkout's.
    expect(execFileSync('sh', ['-c', 'command -v canarykit'], { env: { PATH: `${join(prefix, 'bin')}:/usr/bin:/bin` }, encoding: 'utf8' }).trim()).toBe(join(prefix, 'bin', 'canarykit'));
    expect(await canarykit(work, ['--version'])).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });

    // Quick start: a clone of the deploy repository, a Flagger canary in apps/, init, commit, push.
    const repo = fx.clone('deploy');
    mkdirSync(join(repo, 'apps', 'podinfo'), { recursive: true });
    writeFileSync(join(repo, 'apps', 'podinfo', 'deployment.yaml'), deployment('ghcr.io/stefanprodan/podinfo:6.0.0'));
    writeFileSync(join(repo, 'apps', 'podinfo', 'canary.yaml'), CANARY);
    const init = await canarykit(repo, ['init']);
    expect(init.code).toBe(0);
    expect(parse(readFileSync(join(repo, 'canarykit.yaml'), 'utf8')).synth).toBe('canarykit compile -f apps/');
    git(repo, ['add', '-A'], gitEnv);
    git(repo, ['commit', '-qm', 'podinfo canary'], gitEnv);
    git(repo, ['push', '-q', 'origin', 'HEAD:main'], gitEnv);

    // The driver, as the CronJob runs it: every minute, Prometheus address from the environment.
    const tick = async (t: number) => {
      const r = await canarykit(repo, ['step', '--all'], { CANARYKIT_NOW: at(t).toISOString(), CANARYKIT_PROMETHEUS_ADDRESS: prom.url });
      expect(r.code, r.err).toBe(0);
      return r;
    };
    await tick(60);
    await tick(120);
    expect(JSON.parse((await canarykit(repo, ['status', '--json'])).out)).toMatchObject([{ canary: `${NS}/podinfo`, phase: 'Initialized' }]);

    fx.pushConcurrently({ 'apps/podinfo/deployment.yaml': deployment('ghcr.io/stefanprodan/podinfo:6.1.0') }, 'podinfo 6.1.0');
    const phases: string[] = [];
    for (let t = 130; t < 130 + 60 * 12; t += 60) {
      await tick(t);
      const [row] = JSON.parse((await canarykit(repo, ['status', '--json'])).out);
      phases.push(row.phase);
      if (row.phase === 'Succeeded') break;
    }
    expect(phases.at(-1)).toBe('Succeeded');
    expect(phases).toContain('Progressing');
    expect(phases).toContain('Promoting');

    // On the remote: the promoted primary runs the new image, the canary is scaled to zero.
    const primary = parse(fx.remoteGit('show', `main:dist/${NS}/podinfo/deployment-podinfo-primary.yaml`));
    expect(primary.spec.template.spec.containers[0].image).toBe('ghcr.io/stefanprodan/podinfo:6.1.0');
    expect(parse(fx.remoteGit('show', `main:dist/${NS}/podinfo/deployment-podinfo.yaml`)).spec.replicas).toBe(0);
    expect(JSON.parse(fx.remoteGit('show', `main:state/${NS}/podinfo.json`)).phase).toBe('Succeeded');
    const status = await canarykit(repo, ['status']);
    expect(status.out).toMatch(new RegExp(`^${NS}/podinfo\\s+istio\\s+Succeeded\\s+0\\s`, 'm'));
  }, 600_000);
});
