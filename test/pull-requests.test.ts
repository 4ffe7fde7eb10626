import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, TickError } from '../src/errors';
import { CanarykitConfig, parseConfig } from '../src/adapters/config';
import { DriverDeps, StepReport, applyManual, step } from '../src/driver/driver';
import { GitHubRequestError, GitHubUnavailableError } from '../src/errors';
import { pullRequestHostFor } from '../src/adapters/review/pull-requests';
import { CanaryState } from '../src/model/state';
import { runCli } from './support/cli';
import { AppSpec, TEST_CONFIG, appJson, healthyPodinfo, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { GitHubServer, startGitHubServer } from './support/github-server';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * `git.mode: pull-request` end to end: a GitHub REST API server on 127.0.0.1 speaking GitHub's
 * wire format (test/support/github-server.ts) whose git side is a real bare remote, a real
 * Prometheus, and the driver (or the CLI) run tick after tick.
 */

const ROOT = resolve(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const REPOSITORY = 'acme/deploy';
/** Shaped like a GitHub token, different on every run; must never show up in any output. */
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;

describe('git.pullRequest configuration', () => {
  it('defaults provider, apiUrl and branchPrefix, and requires the repository in pull-request mode', () => {
    const c = parseConfig('git:\n  mode: pull-request\n  pullRequest: { repository: acme/deploy }\n', 'canarykit.yaml');
    expect(c.git).toMatchObject({ mode: 'pull-request', pullRequest: { provider: 'github', repository: 'acme/deploy', apiUrl: 'https://api.github.com', branchPrefix: 'canarykit/' } });
    expect(parseConfig('git:\n  mode: push\n', 'canarykit.yaml').git.pullRequest).toBeUndefined();
    const problems = (text: string): string => {
      try {
        parseConfig(text, 'canarykit.yaml');
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected a validation error');
    };
    expect(problems('git:\n  mode: pull-request\n')).toMatch(/canarykit.yaml#\/git\/pullRequest\/repository: required when git.mode is pull-request/);
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { provider: github }\n')).toMatch(/#\/git\/pullRequest\/repository: required when git.mode is pull-request/);
    expect(problems('git:\n  pullRequest: { repository: acme/deploy }\n')).toMatch(/#\/git\/pullRequest: only used with git.mode: pull-request/);
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { repository: acme }\n')).toMatch(/#\/git\/pullRequest\/repository: must be owner\/name/);
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { repository: a/b, provider: bitbucket }\n')).toMatch(/#\/git\/pullRequest\/provider: must be one of "github", "gitlab"/);
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { repository: a/b, apiUrl: "https://x:y@api.github.com" }\n')).toMatch(/apiUrl: must be an http or https URL without credentials/);
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { repository: a/b, branchPrefix: "../x" }\n')).toMatch(/branchPrefix: must be the start of a git branch name/);
  });

  it('needs CANARYKIT_GITHUB_TOKEN from the environment in pull-request mode only', () => {
    const c = parseConfig('git:\n  mode: pull-request\n  pullRequest: { repository: acme/deploy }\n', 'canarykit.yaml');
    expect(() => pullRequestHostFor(c, {})).toThrow(ConfigError);
    expect(() => pullRequestHostFor(c, {})).toThrow(/CANARYKIT_GITHUB_TOKEN is not set/);
    expect(pullRequestHostFor(c, { CANARYKIT_GITHUB_TOKEN: TOKEN })?.description).toBe('GitHub acme/deploy');
    expect(pullRequestHostFor(TEST_CONFIG, {})).toBeUndefined();
  });
});

const NAMESPACES = ['prhealthy', 'prmulti-a', 'prmulti-b', 'prfail', 'prcli', 'prchart'];

function metrics(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  for (const ns of NAMESPACES) healthyPodinfo(w, ns);
  return w;
}

/** A repository with canaries, its GitHub (the server plus the bare remote), a driver clone and a clock. */
class Scenario {
  readonly fx: GitFixture;
  readonly clone: string;
  readonly clock = { now: at(60) };
  readonly logs: string[] = [];
  gh!: GitHubServer;
  constructor(readonly namespaces: string[], readonly promUrl: () => string) {
    this.fx = createGitFixture({ 'app.json': appJson(this.app()) });
    this.clone = this.fx.clone('driver');
  }
  app(threshold = 2): AppSpec {
    return { canaries: this.namespaces.map((namespace) => ({ namespace, image: 'podinfo:6.0.0', threshold })) };
  }
  async start(): Promise<this> {
    this.gh = await startGitHubServer({ token: TOKEN, repository: REPOSITORY, remote: this.fx.remote });
    return this;
  }
  get config(): CanarykitConfig {
    return {
      ...TEST_CONFIG,
      git: { ...TEST_CONFIG.git, mode: 'pull-request', pullRequest: { provider: 'github', repository: REPOSITORY, apiUrl: this.gh.url, branchPrefix: 'canarykit/' } },
    };
  }
  deps(): DriverDeps {
    return { ...realDeps(this.clone, this.promUrl(), this.clock, this.logs), pullRequests: pullRequestHostFor(this.config, { CANARYKIT_GITHUB_TOKEN: TOKEN }) };
  }
  async tick(advanceSeconds = 60): Promise<StepReport> {
    this.clock.now = new Date(this.clock.now.getTime() + advanceSeconds * 1000);
    return step({ repoDir: this.clone, config: this.config, select: { all: true } }, this.deps());
  }
  /** Every ref of the remote with its sha: "unchanged" means this is equal. */
  refs(): string {
    return this.fx.remoteGit('for-each-ref', '--format=%(refname) %(objectname)');
  }
  sha(rev: string): string {
    return this.fx.remoteGit('rev-parse', rev);
  }
  state(rev: string, namespace = this.namespaces[0]): CanaryState {
    return JSON.parse(this.fx.remoteGit('show', `${rev}:state/${namespace}/podinfo.json`));
  }
  /** Files the commit at `rev` changed. */
  changed(rev: string): string[] {
    return this.fx.remoteGit('show', '--format=', '--name-only', rev).split('\n').filter(Boolean);
  }
  /** The clone is on the base branch, exactly at the remote tip, with nothing left over. */
  expectCloneAtRemote(): void {
    expect(git(this.clone, ['symbolic-ref', '--short', 'HEAD'])).toBe('main');
    expect(git(this.clone, ['rev-parse', 'HEAD'])).toBe(this.sha('main'));
    expect(git(this.clone, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
  }
  cleanup(): void {
    this.fx.cleanup();
  }
}

/** The output a person or a log collector could see: none of it may carry the token. */
const seen: string[] = [];
function expectNoToken(): void {
  const leaks = seen.filter((text) => text.includes(TOKEN));
  expect(leaks).toEqual([]);
}
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    seen.push(String((e as Error).message), String((e as Error).stack));
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describeWithPrometheus('git.mode: pull-request against a GitHub API server, real git and Prometheus', () => {
  let prom: PrometheusServer;
  const scenarios: Scenario[] = [];
  const scenario = async (namespaces: string[]): Promise<Scenario> => {
    const s = new Scenario(namespaces, () => prom.url);
    scenarios.push(s);
    return s.start();
  };
  beforeAll(async () => {
    prom = await startPrometheus(String(metrics()));
  }, 30_000);
  afterEach(() => {
    for (const s of scenarios) seen.push(...s.logs);
    expectNoToken();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await prom?.stop();
    for (const s of scenarios) {
      await s.gh?.stop();
      s.cleanup();
    }
  });

  it('opens one pull request per stage, waits while it is open, and proposes the next stage after the merge', async () => {
    const s = await scenario(['prhealthy']);
    const branch = 'canarykit/prhealthy/podinfo';
    const seed = s.sha('main');

    // Tick 1: the initial stage becomes pull request #1; the base branch is untouched.
    let report = await s.tick();
    expect(report.pushed).toBe(true);
    expect(report.outcomes).toEqual([
      expect.objectContaining({
        canary: 'prhealthy/podinfo',
        action: 'initialize',
        phase: 'Initializing',
        pullRequest: { status: 'opened', branch, number: 1, url: 'https://github.com/acme/deploy/pull/1', title: 'canary(prhealthy/podinfo): initialize: create the primary' },
      }),
    ]);
    expect(s.sha('main')).toBe(seed);
    const head1 = s.sha(branch);
    expect(report.outcomes[0].commit).toBe(head1);
    expect(s.sha(`${branch}^`)).toBe(seed);
    expect(s.fx.remoteGit('log', '-1', '--format=%s', branch)).toBe('canary(prhealthy/podinfo): initialize: create the primary');
    expect(s.state(branch)).toMatchObject({ phase: 'Initializing', canaryWeight: 0 });
    const changed = s.changed(branch);
    expect(changed).toContain('state/prhealthy/podinfo.json');
    expect(changed).toContain('dist/prhealthy/podinfo/virtualservice-podinfo.yaml');
    expect(changed.every((f) => f === 'state/prhealthy/podinfo.json' || f.startsWith('dist/prhealthy/podinfo/'))).toBe(true);
    s.expectCloneAtRemote();

    // The exact requests: look up, then open, with GitHub's headers.
    expect(s.gh.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /repos/acme/deploy/pulls 200', 'POST /repos/acme/deploy/pulls 201']);
    const [lookup, open] = s.gh.requests;
    expect(lookup.query).toEqual({ state: 'open', head: `acme:${branch}`, base: 'main' });
    for (const r of [lookup, open]) {
      expect(r.headers).toMatchObject({
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        authorization: `Bearer ${TOKEN}`,
        'user-agent': 'canarykit',
      });
    }
    const commitBody = s.fx.remoteGit('log', '-1', '--format=%b', branch).trimEnd();
    expect(open.body).toEqual({ title: 'canary(prhealthy/podinfo): initialize: create the primary', head: branch, base: 'main', body: commitBody });
    expect(commitBody).toMatch(/Canary-Phase: Initializing\nCanary-Weight: 0\nCanary-Revision: [0-9a-f]{16}\nCanary-Failed-Checks: 0$/);

    // Tick 2: #1 is still open: the canary waits; nothing is pushed or opened.
    const refs = s.refs();
    report = await s.tick();
    expect(report).toMatchObject({ pushed: false, outcomes: [{ action: 'await-review', phase: 'Uninitialized', pullRequest: { status: 'open', number: 1 } }] });
    expect(report.outcomes[0].summary).toBe('waiting for review of pull request #1 (https://github.com/acme/deploy/pull/1)');
    expect(s.refs()).toBe(refs);
    expect(s.gh.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET']);
    expect(s.gh.pulls).toHaveLength(1);
    s.expectCloneAtRemote();

    // A reviewer merges #1 (a merge commit): the next tick proposes the next stage as #2.
    const merged = s.gh.merge(1);
    expect(s.state('main').phase).toBe('Initializing');
    report = await s.tick();
    expect(report.outcomes[0]).toMatchObject({ action: 'initialize', phase: 'Initialized', pullRequest: { status: 'opened', number: 2, branch } });
    expect(s.sha('main')).toBe(merged);
    expect(s.sha(`${branch}^`)).toBe(merged);
    expect(s.state(branch).phase).toBe('Initialized');
    expect(s.gh.pulls.map((p) => [p.number, p.state, p.merged])).toEqual([[1, 'closed', true], [2, 'open', false]]);
    s.expectCloneAtRemote();

    // Manual commands take the same path: refused while #2 is open, a pull request once merged.
    const refused = await failure(applyManual({ repoDir: s.clone, config: s.config, canary: 'prhealthy/podinfo', command: 'pause' }, s.deps()));
    expect(refused.message).toMatch(/prhealthy\/podinfo has pull request #2 open \(https:\/\/github.com\/acme\/deploy\/pull\/2\); merge or close it first/);
    s.expectCloneAtRemote();
    const fastForwarded = s.gh.merge(2, 'fast-forward');
    const paused = await applyManual({ repoDir: s.clone, config: s.config, canary: 'prhealthy/podinfo', command: 'pause' }, s.deps());
    expect(paused).toMatchObject({ pushed: true, state: { paused: true }, pullRequest: { status: 'opened', number: 3, title: 'canary(prhealthy/podinfo): pause (manual)' } });
    expect(s.sha('main')).toBe(fastForwarded);
    expect(s.sha(`${branch}^`)).toBe(fastForwarded);
    expect(s.state(branch)).toMatchObject({ phase: 'Initialized', paused: true });
    s.expectCloneAtRemote();

    // No sync commit in pull-request mode: manifests the app changed are reported, not pushed.
    s.gh.merge(3);
    s.fx.pushConcurrently({ 'app.json': appJson(s.app(7)) }, 'raise threshold');
    const before = s.refs();
    report = await s.tick();
    expect(report).toMatchObject({ pushed: false, unsynced: ['dist/prhealthy/podinfo'] });
    expect(s.logs.at(-1)).toMatch(/^not committed in pull-request mode: dist\/prhealthy\/podinfo changed with the app/);
    expect(s.refs()).toBe(before);
    s.expectCloneAtRemote();
  });

  it('builds each canary on its own branch from the base tip, and adopts a pull request opened in between (422)', async () => {
    const s = await scenario(['prmulti-a', 'prmulti-b']);
    const seed = s.sha('main');
    const report = await s.tick();
    expect(report.outcomes.map((o) => [o.canary, o.pullRequest?.number])).toEqual([['prmulti-a/podinfo', 1], ['prmulti-b/podinfo', 2]]);
    const firstA = s.sha('canarykit/prmulti-a/podinfo');
    for (const ns of ['prmulti-a', 'prmulti-b']) {
      const branch = `canarykit/${ns}/podinfo`;
      expect(s.sha(`${branch}^`)).toBe(seed);
      expect(s.fx.remoteGit('ls-tree', '-r', '--name-only', branch, 'state/')).toBe(`state/${ns}/podinfo.json`);
      expect(s.fx.remoteGit('ls-tree', '--name-only', `${branch}:dist`)).toBe(ns);
    }
    expect(s.sha('main')).toBe(seed);

    // Our lookup misses #1 (someone opens it between our look-up and our POST): GitHub answers 422
    // "A pull request already exists", and the driver uses the open one instead of failing.
    s.gh.failNext({ method: 'GET', status: 200, body: [] });
    const next = await s.tick();
    expect(next.outcomes).toEqual([
      expect.objectContaining({ canary: 'prmulti-a/podinfo', action: 'initialize', pullRequest: expect.objectContaining({ status: 'open', number: 1 }) }),
      expect.objectContaining({ canary: 'prmulti-b/podinfo', action: 'await-review', pullRequest: expect.objectContaining({ status: 'open', number: 2 }) }),
    ]);
    // a's look-up (answered []), b's look-up, then a's POST and the re-query that finds #1.
    expect(s.gh.requests.slice(-4).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'GET 200', 'POST 422', 'GET 200']);
    expect(s.gh.pulls).toHaveLength(2);
    expect(s.sha('canarykit/prmulti-a/podinfo')).not.toBe(firstA);
    // main still has no state for a (#1 is not merged), so the same stage was re-derived and pushed.
    expect(s.state('canarykit/prmulti-a/podinfo', 'prmulti-a')).toMatchObject({ phase: 'Initializing', lastTransitionTime: at(180).toISOString() });
    expect(next.unsynced).toBeUndefined();
    s.expectCloneAtRemote();
  });

  it('GitHub failures: 5xx is a retryable tick error, 401/403/404 are configuration errors; the remote is left as it was', async () => {
    const s = await scenario(['prfail']);
    const before = s.refs();
    const attempt = async (): Promise<Error> => {
      const e = await failure(s.tick(0));
      expect(s.refs()).toBe(before);
      s.expectCloneAtRemote();
      return e;
    };

    s.gh.failNext({ method: 'GET', status: 500 });
    let e = await attempt();
    expect(e).toBeInstanceOf(GitHubUnavailableError);
    expect(e).toBeInstanceOf(TickError);
    expect(e.message).toBe('GitHub API GET /repos/acme/deploy/pulls answered 500 "Server Error"; GitHub failed, the next tick retries');

    // Opening fails after the branch was pushed: the branch is deleted again.
    s.gh.failNext({ method: 'POST', status: 502, body: { message: 'Bad Gateway' } });
    e = await attempt();
    expect(e).toBeInstanceOf(GitHubUnavailableError);
    expect(s.gh.requests.slice(-2).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'POST 502']);

    s.gh.failNext({ status: 403, body: { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com', status: '403' } });
    e = await attempt();
    expect(e).toBeInstanceOf(GitHubRequestError);
    expect(e).toMatchObject({ exitCode: 2, status: 403 });
    expect(e.message).toMatch(/answered 403 "Resource not accessible by personal access token": the token may not use pull requests of acme\/deploy/);

    s.gh.failNext({ status: 403, body: { message: 'API rate limit exceeded for user ID 1.' }, headers: { 'x-ratelimit-remaining': '0' } });
    e = await attempt();
    expect(e).toBeInstanceOf(GitHubUnavailableError);
    expect(e.message).toMatch(/rate limited until \d{4}-/);

    // A server echoing the credentials back: they are redacted from the message.
    s.gh.failNext({ status: 404, body: { message: `Not Found (Authorization: Bearer ${TOKEN})` } });
    e = await attempt();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain('Bearer ***');
    expect(e.message).toMatch(/no repository acme\/deploy at http:\/\/127.0.0.1:\d+, or the token cannot see it/);

    // Unreachable API: a tick error; nothing was pushed.
    const closed = await startGitHubServer({ token: TOKEN, repository: REPOSITORY, remote: s.fx.remote });
    await closed.stop();
    const down = { ...s.config, git: { ...s.config.git, pullRequest: { ...s.config.git.pullRequest!, apiUrl: closed.url } } };
    e = await failure(step({ repoDir: s.clone, config: down, select: { all: true } }, { ...s.deps(), pullRequests: pullRequestHostFor(down, { CANARYKIT_GITHUB_TOKEN: TOKEN }) }));
    expect(e).toBeInstanceOf(GitHubUnavailableError);
    expect(e.message).toMatch(/^GitHub API GET http:\/\/127.0.0.1:\d+\/repos\/acme\/deploy\/pulls failed: .*ECONNREFUSED.*; nothing was changed there, try again$/);
    expect(s.refs()).toBe(before);

    // The driver refuses pull-request mode without a host.
    e = await failure(step({ repoDir: s.clone, config: s.config, select: { all: true } }, { ...s.deps(), pullRequests: undefined }));
    expect(e).toBeInstanceOf(ConfigError);

    expect(s.gh.pulls).toHaveLength(0);
    // Recovered: the next tick opens the pull request.
    expect((await s.tick(0)).outcomes[0].pullRequest).toMatchObject({ status: 'opened', number: 1 });
  });

  it('stage pull requests show the run\'s weight chart (mermaid xychart-beta), the checks table and Prometheus links', async () => {
    const s = await scenario(['prchart']);
    const branch = 'canarykit/prchart/podinfo';
    const mergeNext = async (): Promise<string> => {
      const report = await s.tick();
      const n = report.outcomes[0].pullRequest!.number!;
      s.gh.merge(n);
      return (s.gh.requests.filter((r) => r.method === 'POST').at(-1)!.body as { body: string }).body;
    };
    await mergeNext(); // Initializing
    const initialized = await mergeNext();
    expect(initialized).not.toContain('```mermaid');
    s.fx.pushConcurrently({ 'app.json': appJson({ canaries: [{ namespace: 'prchart', image: 'podinfo:6.1.0' }] }) }, 'release 6.1.0');
    await mergeNext(); // start analysis
    await mergeNext(); // 0 -> 10
    const body = await mergeNext(); // 10 -> 20
    expect(s.fx.remoteGit('log', '-1', '--format=%s', branch)).toBe('canary(prchart/podinfo): advance weight 10 -> 20');
    // The chart: Initialized (0), start (0), 10, and the proposed 20; primary mirrors it.
    expect(body).toContain(['```mermaid', 'xychart-beta', '  title "prchart/podinfo traffic weight (%)"'].join('\n'));
    expect(body).toMatch(/  x-axis \["00:0\d", "00:0\d", "00:0\d", "00:0\d"\]\n  y-axis "weight \(%\)" 0 --> 100\n  line \[0, 0, 10, 20\]\n  line \[100, 100, 90, 80\]\n```/);
    // The checks table: value, threshold and verdict of each metric checked this tick.
    expect(body).toContain('| check | value | threshold | verdict |\n|---|---|---|---|\n| request-success-rate | 100 | min 99 | pass |\n');
    expect(body).toMatch(/\| request-duration \| \d+ms \| max 500ms \| pass \|/);
    // One link per metric to its query over the run, on the Prometheus of the plan.
    const links = [...body.matchAll(/^- \[([a-z-]+)\]\((http[^)]+)\)$/gm)].map((m) => [m[1], new URL(m[2])] as const);
    expect(links.map(([name]) => name)).toEqual(['request-success-rate', 'request-duration']);
    for (const [, url] of links) {
      expect(`${url.origin}${url.pathname}`).toBe(`${prom.url}/graph`);
      expect(url.searchParams.get('g0.expr')).toMatch(/istio_requests_total|istio_request_duration/);
      expect(url.searchParams.get('g0.range_input')).toMatch(/^\d+m$/);
    }
    // The same sections are in the stage commit's body, followed by the trailers.
    const commitBody = s.fx.remoteGit('log', '-1', '--format=%b', branch);
    expect(commitBody).toContain('line [0, 0, 10, 20]');
    expect(commitBody).toMatch(/Canary-Metrics: request-success-rate=100 request-duration=\d+\nCanary-Phase: Progressing\nCanary-Weight: 20/);
    expect(s.gh.pulls.length).toBe(5);
  }, 300_000);

  it('the CLI: missing token and a rejected token exit 2, a dry run opens nothing, a step opens the pull request', async () => {
    const s = await scenario(['prcli']);
    writeFileSync(join(s.clone, 'canarykit.yaml'), [
      `synth: ${TSX} ${join(ROOT, 'test/support/synth-repo-cli.ts')} ${prom.url}`,
      'git:',
      '  mode: pull-request',
      `  pullRequest: { repository: ${REPOSITORY}, apiUrl: "${s.gh.url}" }`,
      '  committer: { name: canarykit-ci, email: ci@example.test }',
      '',
    ].join('\n'));
    git(s.clone, ['add', 'canarykit.yaml']);
    git(s.clone, ['commit', '-qm', 'configure canarykit: pull requests']);
    git(s.clone, ['push', '-q', 'origin', 'HEAD:main']);
    const before = s.refs();
    const run = async (args: string[], token: string | undefined) => {
      if (token === undefined) vi.stubEnv('CANARYKIT_GITHUB_TOKEN', undefined);
      else vi.stubEnv('CANARYKIT_GITHUB_TOKEN', token);
      try {
        const r = await runCli([...args, '--repo', s.clone], at(120));
        seen.push(r.out, r.err);
        return r;
      } finally {
        vi.unstubAllEnvs();
      }
    };

    let r = await run(['step'], undefined);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^error: git.mode is pull-request but CANARYKIT_GITHUB_TOKEN is not set/);
    expect(s.gh.requests).toHaveLength(0);

    r = await run(['step'], 'ghp_revoked');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/answered 401 "Bad credentials": CANARYKIT_GITHUB_TOKEN was rejected/);
    expect(r.err).not.toContain('ghp_revoked');
    expect(s.refs()).toBe(before);

    r = await run(['step', '--dry-run'], TOKEN);
    // One line per canary, on stdout only.
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out.split('\n')).toEqual([
      'prcli/podinfo: initialize: create the primary [Initializing weight 0 failed 0]; would open a pull request from canarykit/prcli/podinfo: canary(prcli/podinfo): initialize: create the primary',
      'dry run: nothing written',
    ]);
    expect(s.gh.requests.map((q) => q.method)).toEqual(['GET', 'GET']);
    expect(s.refs()).toBe(before);

    r = await run(['step', '--json'], TOKEN);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ pushed: true, outcomes: [{ canary: 'prcli/podinfo', pullRequest: { status: 'opened', number: 1, branch: 'canarykit/prcli/podinfo' } }] });
    expect(s.sha('main')).toBe(before.match(/refs\/heads\/main (\w+)/)![1]);
    expect(s.fx.remoteGit('log', '-1', '--format=%s%n%an <%ae>', 'canarykit/prcli/podinfo')).toBe('canary(prcli/podinfo): initialize: create the primary\ncanarykit-ci <ci@example.test>');
    s.expectCloneAtRemote();

    r = await run(['step'], TOKEN);
    expect({ code: r.code, lines: r.out.split('\n') }).toEqual({
      code: 0,
      lines: ['prcli/podinfo: waiting for review of pull request #1 (https://github.com/acme/deploy/pull/1) [Uninitialized weight 0 failed 0]', 'no pull request opened'],
    });
  });
});
