import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli';
import { appJson, healthyPodinfo } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The `canarykit` command as a user runs it: flags, canarykit.yaml, the configured synth command
 * run as a child process, exit codes, and output. Real Prometheus and git underneath.
 */

const ROOT = resolve(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

const run = runCli;

describeWithPrometheus('canarykit CLI', () => {
  let prom: PrometheusServer;
  let fx: GitFixture;
  let repo: string;
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    healthyPodinfo(w, 'cli');
    prom = await startPrometheus(String(w));
    fx = createGitFixture({ 'app.json': appJson({ canaries: [{ namespace: 'cli', image: 'podinfo:1.0.0' }] }) });
    repo = fx.clone('cli');
    writeFileSync(join(repo, 'canarykit.yaml'), [
      `synth: ${TSX} ${join(ROOT, 'test/support/synth-repo-cli.ts')} ${prom.url}`,
      'git:',
      '  committer: { name: canarykit-ci, email: ci@example.test }',
      '',
    ].join('\n'));
    git(repo, ['add', 'canarykit.yaml']);
    git(repo, ['commit', '-qm', 'configure canarykit']);
    git(repo, ['push', '-q', 'origin', 'HEAD:main']);
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    fx?.cleanup();
  });

  it('steps, reports status and plan, and applies manual transitions as commits', async () => {
    let r = await run(['step', '--repo', repo, '--all'], at(60));
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/cli\/podinfo: initialize: create the primary \[Initializing weight 0 failed 0\] [0-9a-f]{8}\npushed/);
    r = await run(['step', '--repo', repo, '--canary', 'cli/podinfo'], at(120));
    expect(r.out).toContain('[Initialized weight 0 failed 0]');
    expect(fx.remoteGit('log', '-1', '--format=%an <%ae>', 'main')).toBe('canarykit-ci <ci@example.test>');

    fx.pushConcurrently({ 'app.json': appJson({ canaries: [{ namespace: 'cli', image: 'podinfo:1.1.0' }] }) }, 'release 1.1.0');
    r = await run(['step', '--repo', repo, '--dry-run', '--json'], at(130));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ pushed: false, outcomes: [{ canary: 'cli/podinfo', action: 'start', phase: 'Progressing' }] });
    expect(fx.remoteGit('log', '-1', '--format=%s', 'main')).toBe('release 1.1.0');

    r = await run(['step', '--repo', repo], at(130));
    r = await run(['step', '--repo', repo], at(190));
    expect(r.out).toContain('advance weight 0 -> 10');

    r = await run(['status', '--repo', repo, '--json'], at(200));
    expect(JSON.parse(r.out)).toEqual([expect.objectContaining({ canary: 'cli/podinfo', phase: 'Progressing', weight: 10, failedChecks: 0, nextDue: at(250).toISOString() })]);
    r = await run(['status', '--repo', repo], at(200));
    expect(r.out.split('\n')[0]).toMatch(/^CANARY\s+PROVIDER\s+PHASE\s+WEIGHT/);
    expect(r.out).toMatch(/cli\/podinfo\s+istio\s+Progressing\s+10/);

    r = await run(['plan', 'cli/podinfo', '--repo', repo], at(200));
    expect(r.out).toMatch(/canary, interval 60s, max weight 50/);
    expect(r.out).toMatch(/9 ticks, 5 analyses: at least 8 min/);

    r = await run(['pause', 'cli/podinfo', '--repo', repo], at(200));
    expect(r).toMatchObject({ code: 0 });
    expect(fx.remoteGit('log', '-1', '--format=%s', 'main')).toBe('canary(cli/podinfo): pause (manual)');
    r = await run(['step', '--repo', repo], at(400));
    expect(r.out).toContain('paused');
    expect(fx.remoteGit('log', '-1', '--format=%s', 'main')).toBe('canary(cli/podinfo): pause (manual)');
    await run(['resume', 'cli/podinfo', '--repo', repo], at(400));

    r = await run(['promote', 'cli/podinfo', '--repo', repo], at(410));
    expect(r.out).toMatch(/promote -> Promoting weight 10/);
    const state = JSON.parse(fx.remoteGit('show', 'main:state/cli/podinfo.json'));
    expect(state.primary.template.spec.containers[0].image).toBe('podinfo:1.1.0');
    r = await run(['rollback', 'cli/podinfo', '--repo', repo], at(420));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Promoting: the primary already runs the new revision; revert the change in git instead/);
  });

  it('exits 2 on invalid input and writes nothing', async () => {
    const head = fx.remoteGit('rev-parse', 'main');
    expect((await run(['step', '--repo', repo, '--canary', 'Not A Name'], at(500))).code).toBe(2);
    expect((await run(['step', '--repo', repo, '--canary', 'cli/podinfo', '--all'], at(500))).err).toMatch(/either --canary or --all/);
    expect((await run(['plan', 'cli/missing', '--repo', repo], at(500)))).toMatchObject({ code: 2, err: expect.stringMatching(/no canary cli\/missing .*known: cli\/podinfo/) });
    expect((await run(['step', '--repo', join(repo, 'nope')], at(500))).code).toBe(2);
    expect((await run(['frobnicate'], at(500))).code).toBe(2);
    expect((await run(['init', '--repo', repo], at(500))).err).toMatch(/already exists/);
    expect(fx.remoteGit('rev-parse', 'main')).toBe(head);
    // canarykit.yaml is read after the sync: an invalid one pushed to the remote stops this tick.
    const good = fx.remoteGit('show', 'main:canarykit.yaml');
    const localHead = git(repo, ['rev-parse', 'HEAD']);
    const broken = fx.pushConcurrently({ 'canarykit.yaml': `${good}\nprometheus:\n  timeoutSeconds: -1\n` }, 'broken config');
    const bad = await run(['step', '--repo', repo], at(500));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/canarykit.yaml#\/prometheus\/timeoutSeconds: must be > 0/);
    expect(fx.remoteGit('rev-parse', 'main')).toBe(broken);
    // The clone is back where it was, so the next tick still knows where to sync from.
    expect(git(repo, ['rev-parse', 'HEAD'])).toBe(localHead);
    expect(git(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    fx.pushConcurrently({ 'canarykit.yaml': good }, 'fix config');
  });

  it('init writes a commented canarykit.yaml that loads', async () => {
    const dir = join(fx.root, 'fresh');
    execFileSync('git', ['init', '-q', dir]);
    expect(await run(['init', '--repo', dir, '--synth', 'canarykit compile -f apps/'], at(0))).toMatchObject({ code: 0, err: '' });
    const text = readFileSync(join(dir, 'canarykit.yaml'), 'utf8');
    expect(text).toMatch(/^# canarykit.yaml/);
    expect(text).toContain('synth: canarykit compile -f apps/');
    expect((await run(['status', '--repo', dir], at(0))).code).toBe(0);
  });

  it('the installed bin prints help and exits 0', () => {
    const bin = join(ROOT, 'bin', 'canarykit.js');
    if (!existsSync(join(ROOT, 'lib', 'src', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: canarykit/);
    expect(r.stdout).toMatch(/step .*run one tick/);
  });
});

describe('synth command environment', () => {
  it('does not pass the driver credentials to the synth command', async () => {
    const { runSynth } = await import('../src/adapters/synth');
    const { mkdtempSync, readFileSync: read } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'canarykit-env-'));
    const saved = { ...process.env };
    Object.assign(process.env, { CANARYKIT_GITHUB_TOKEN: 'ghp_secret', CANARYKIT_PROMETHEUS_TOKEN: 'prom_secret', CANARYKIT_ALERT_TEAM_TOKEN: 'alert_secret', KEEP_ME: 'yes' });
    try {
      await runSynth('env > env.txt', dir, 'dist');
    } finally {
      for (const k of ['CANARYKIT_GITHUB_TOKEN', 'CANARYKIT_PROMETHEUS_TOKEN', 'CANARYKIT_ALERT_TEAM_TOKEN', 'KEEP_ME']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    const env = read(join(dir, 'env.txt'), 'utf8');
    expect(env).toContain('KEEP_ME=yes');
    expect(env).toContain('CDK8S_OUTDIR=dist');
    expect(env).not.toMatch(/secret/);
  });
});

// Kargo-style errors (style anchors): a terminal tick error says retrying will not help; a retryable one does not.
describe('terminal vs retryable tick errors', () => {
  it('a clone whose .git is neither a directory nor a gitdir file: exit 3 (terminal), says retrying will not help', async () => {
    const dir = join(tmpdir(), `ck-terminal-${process.pid}-${Date.now()}`);
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, '.git'), 'garbage\n');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await runCli(['step', '--all'], new Date());
      expect(r.code).toBe(3);
      expect(r.err).toContain('is neither a git directory nor a gitdir file');
      expect(r.err).toContain('will not go away by retrying');
    } finally {
      process.chdir(cwd);
      execFileSync('rm', ['-rf', dir]);
    }
  });
});
