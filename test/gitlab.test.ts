import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, TickError } from '../src/errors';
import { CanarykitConfig, parseConfig } from '../src/adapters/config';
import { DriverDeps, StepReport, applyManual, step } from '../src/driver/driver';
import { GitLabRequestError, GitLabUnavailableError } from '../src/errors';
import { pullRequestHostFor } from '../src/adapters/review/pull-requests';
import { CanaryState } from '../src/model/state';
import { runCli } from './support/cli';
import { AppSpec, TEST_CONFIG, appJson, healthyPodinfo, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { GitLabServer, startGitLabServer } from './support/gitlab-server';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * `git.pullRequest.provider: gitlab` end to end: a GitLab REST API v4 server on 127.0.0.1
 * (test/support/gitlab-server.ts) whose git side is a real bare remote, a real Prometheus, and
 * the driver (or the CLI) tick after tick. Same semantics as the GitHub mode
 * (test/pull-requests.test.ts): one open merge request per canary, merging applies the stage.
 */

const ROOT = resolve(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const PROJECT = 'acme/platform/deploy';
const PROJECT_ID = 42;
/** Shaped like a GitLab personal access token, different on every run; never in any output. */
const TOKEN = `glpat-${randomBytes(12).toString('hex')}`;

const problems = (text: string): string => {
  try {
    parseConfig(text, 'canarykit.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a validation error');
};

describe('git.pullRequest with provider: gitlab', () => {
  it('defaults apiUrl to gitlab.com, takes a project path or numeric id, and checks the shape per provider', () => {
    const c = parseConfig('git:\n  mode: pull-request\n  pullRequest: { provider: gitlab, repository: acme/platform/deploy }\n', 'canarykit.yaml');
    expect(c.git.pullRequest).toEqual({ provider: 'gitlab', repository: 'acme/platform/deploy', apiUrl: 'https://gitlab.com/api/v4', branchPrefix: 'canarykit/' });
    const byId = parseConfig('git:\n  mode: pull-request\n  pullRequest: { provider: gitlab, repository: "42", apiUrl: "https://git.example.com/api/v4" }\n', 'canarykit.yaml');
    expect(byId.git.pullRequest).toMatchObject({ repository: '42', apiUrl: 'https://git.example.com/api/v4' });
    // GitHub keeps its own rules: a subgroup path is not a GitHub repository.
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { repository: a/b/c }\n')).toMatch(/#\/git\/pullRequest\/repository: must be owner\/name/);
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { provider: gitlab, repository: deploy }\n')).toMatch(
      /#\/git\/pullRequest\/repository: must be the project path \(group\/project, group\/subgroup\/project\) or its numeric id/,
    );
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { provider: gitlab }\n')).toMatch(/repository: required when git.mode is pull-request: the GitLab repository/);
    expect(problems('git:\n  mode: pull-request\n  pullRequest: { provider: gitlab, repository: a/b, apiUrl: "https://u:p@gitlab.com/api/v4" }\n')).toMatch(
      /apiUrl: must be an http or https URL without credentials \(the token comes from CANARYKIT_GITLAB_TOKEN\)/,
    );
  });

  it('needs CANARYKIT_GITLAB_TOKEN (not the GitHub one) from the environment', () => {
    const c = parseConfig('git:\n  mode: pull-request\n  pullRequest: { provider: gitlab, repository: acme/deploy }\n', 'canarykit.yaml');
    expect(() => pullRequestHostFor(c, { CANARYKIT_GITHUB_TOKEN: 'ghp_x' })).toThrow(ConfigError);
    expect(() => pullRequestHostFor(c, {})).toThrow(/CANARYKIT_GITLAB_TOKEN is not set: export a GitLab token allowed to open merge requests on acme\/deploy/);
    expect(pullRequestHostFor(c, { CANARYKIT_GITLAB_TOKEN: TOKEN })?.description).toBe('GitLab acme/deploy');
  });
});

const NAMESPACES = ['glhealthy', 'glmulti-a', 'glmulti-b', 'glfail', 'glcli', 'glchart'];

function metrics(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  for (const ns of NAMESPACES) healthyPodinfo(w, ns);
  return w;
}

class Scenario {
  readonly fx: GitFixture;
  readonly clone: string;
  readonly clock = { now: at(60) };
  readonly logs: string[] = [];
  gl!: GitLabServer;
  constructor(readonly namespaces: string[], readonly promUrl: () => string, readonly repository = PROJECT) {
    this.fx = createGitFixture({ 'app.json': appJson(this.app()) });
    this.clone = this.fx.clone('driver');
  }
  app(threshold = 2): AppSpec {
    return { canaries: this.namespaces.map((namespace) => ({ namespace, image: 'podinfo:6.0.0', threshold })) };
  }
  async start(): Promise<this> {
    this.gl = await startGitLabServer({ token: TOKEN, project: PROJECT, projectId: PROJECT_ID, remote: this.fx.remote });
    return this;
  }
  get config(): CanarykitConfig {
    return {
      ...TEST_CONFIG,
      git: { ...TEST_CONFIG.git, mode: 'pull-request', pullRequest: { provider: 'gitlab', repository: this.repository, apiUrl: this.gl.url, branchPrefix: 'canarykit/' } },
    };
  }
  deps(): DriverDeps {
    return { ...realDeps(this.clone, this.promUrl(), this.clock, this.logs), pullRequests: pullRequestHostFor(this.config, { CANARYKIT_GITLAB_TOKEN: TOKEN }) };
  }
  async tick(advanceSeconds = 60): Promise<StepReport> {
    this.clock.now = new Date(this.clock.now.getTime() + advanceSeconds * 1000);
    return step({ repoDir: this.clone, config: this.config, select: { all: true } }, this.deps());
  }
  refs(): string {
    return this.fx.remoteGit('for-each-ref', '--format=%(refname) %(objectname)');
  }
  sha(rev: string): string {
    return this.fx.remoteGit('rev-parse', rev);
  }
  state(rev: string, namespace = this.namespaces[0]): CanaryState {
    return JSON.parse(this.fx.remoteGit('show', `${rev}:state/${namespace}/podinfo.json`));
  }
  expectCloneAtRemote(): void {
    expect(git(this.clone, ['symbolic-ref', '--short', 'HEAD'])).toBe('main');
    expect(git(this.clone, ['rev-parse', 'HEAD'])).toBe(this.sha('main'));
    expect(git(this.clone, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
  }
}

const seen: string[] = [];
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    seen.push(String((e as Error).message), String((e as Error).stack));
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describeWithPrometheus('git.pullRequest.provider: gitlab against a GitLab REST v4 server, real git and Prometheus', () => {
  let prom: PrometheusServer;
  const scenarios: Scenario[] = [];
  const scenario = async (namespaces: string[], repository?: string): Promise<Scenario> => {
    const s = new Scenario(namespaces, () => prom.url, repository);
    scenarios.push(s);
    return s.start();
  };
  beforeAll(async () => {
    prom = await startPrometheus(String(metrics()));
  }, 30_000);
  afterEach(() => {
    for (const s of scenarios) seen.push(...s.logs);
    expect(seen.filter((t) => t.includes(TOKEN))).toEqual([]);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await prom?.stop();
    for (const s of scenarios) {
      await s.gl?.stop();
      s.fx.cleanup();
    }
  });

  it('opens one merge request per stage, waits while it is open, proposes the next after the merge, and reopens after a close', async () => {
    const s = await scenario(['glhealthy']);
    const branch = 'canarykit/glhealthy/podinfo';
    const seed = s.sha('main');
    const webUrl = (iid: number): string => `${s.gl.webUrl}/-/merge_requests/${iid}`;

    let report = await s.tick();
    expect(report.outcomes).toEqual([
      expect.objectContaining({
        canary: 'glhealthy/podinfo',
        action: 'initialize',
        pullRequest: { status: 'opened', branch, number: 1, url: webUrl(1), title: 'canary(glhealthy/podinfo): initialize: create the primary' },
      }),
    ]);
    expect(s.sha('main')).toBe(seed);
    expect(s.sha(`${branch}^`)).toBe(seed);
    expect(s.state(branch)).toMatchObject({ phase: 'Initializing', canaryWeight: 0 });
    s.expectCloneAtRemote();

    // The exact requests: GitLab's paths (project path URL-encoded), parameters, token header.
    expect(s.gl.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /api/v4/projects/acme%2Fplatform%2Fdeploy/merge_requests 200',
      'POST /api/v4/projects/acme%2Fplatform%2Fdeploy/merge_requests 201',
    ]);
    const [lookup, open] = s.gl.requests;
    expect(lookup.query).toEqual({ state: 'opened', source_branch: branch, target_branch: 'main' });
    for (const r of [lookup, open]) expect(r.headers).toMatchObject({ 'private-token': TOKEN, 'user-agent': 'canarykit', accept: 'application/json' });
    expect(open.headers.authorization).toBeUndefined();
    const commitBody = s.fx.remoteGit('log', '-1', '--format=%b', branch).trimEnd();
    expect(open.body).toEqual({ source_branch: branch, target_branch: 'main', title: 'canary(glhealthy/podinfo): initialize: create the primary', description: commitBody });

    // Still open: the canary waits, nothing pushed.
    const refs = s.refs();
    report = await s.tick();
    expect(report).toMatchObject({ pushed: false, outcomes: [{ action: 'await-review', pullRequest: { status: 'open', number: 1, url: webUrl(1) } }] });
    expect(s.refs()).toBe(refs);
    s.expectCloneAtRemote();

    // Merged (a GitLab merge commit): the next tick proposes the next stage as !2.
    const merged = s.gl.merge(1);
    report = await s.tick();
    expect(report.outcomes[0]).toMatchObject({ action: 'initialize', phase: 'Initialized', pullRequest: { status: 'opened', number: 2, branch } });
    expect(s.sha('main')).toBe(merged);
    expect(s.sha(`${branch}^`)).toBe(merged);
    expect(s.gl.mergeRequests.map((m) => [m.iid, m.state])).toEqual([[1, 'merged'], [2, 'opened']]);

    // Closed without merging: the stage was never applied; the next tick re-derives it from main
    // and opens a new merge request from the same branch.
    s.gl.close(2);
    report = await s.tick();
    expect(report.outcomes[0]).toMatchObject({ action: 'initialize', phase: 'Initialized', pullRequest: { status: 'opened', number: 3 } });
    expect(s.state('main').phase).toBe('Initializing');
    expect(s.sha(`${branch}^`)).toBe(merged);

    // Manual commands: refused while !3 is open, a merge request once it is merged.
    const refused = await failure(applyManual({ repoDir: s.clone, config: s.config, canary: 'glhealthy/podinfo', command: 'pause' }, s.deps()));
    expect(refused.message).toContain(`glhealthy/podinfo has pull request #3 open (${webUrl(3)}); merge or close it first`);
    const ff = s.gl.merge(3, 'fast-forward');
    const paused = await applyManual({ repoDir: s.clone, config: s.config, canary: 'glhealthy/podinfo', command: 'pause' }, s.deps());
    expect(paused).toMatchObject({ pushed: true, state: { paused: true }, pullRequest: { status: 'opened', number: 4, title: 'canary(glhealthy/podinfo): pause (manual)' } });
    expect(s.sha(`${branch}^`)).toBe(ff);
    s.expectCloneAtRemote();
  });

  it('takes a numeric project id, and adopts a merge request opened in between (409 Conflict)', async () => {
    const s = await scenario(['glmulti-a', 'glmulti-b'], String(PROJECT_ID));
    const report = await s.tick();
    expect(report.outcomes.map((o) => [o.canary, o.pullRequest?.number])).toEqual([['glmulti-a/podinfo', 1], ['glmulti-b/podinfo', 2]]);
    expect(s.gl.requests[0].path).toBe('/api/v4/projects/42/merge_requests');

    s.gl.failNext({ method: 'GET', status: 200, body: [] });
    const next = await s.tick();
    expect(next.outcomes).toEqual([
      expect.objectContaining({ canary: 'glmulti-a/podinfo', action: 'initialize', pullRequest: expect.objectContaining({ status: 'open', number: 1 }) }),
      expect.objectContaining({ canary: 'glmulti-b/podinfo', action: 'await-review', pullRequest: expect.objectContaining({ status: 'open', number: 2 }) }),
    ]);
    expect(s.gl.requests.slice(-4).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'GET 200', 'POST 409', 'GET 200']);
    expect(s.gl.mergeRequests).toHaveLength(2);
    s.expectCloneAtRemote();
  });

  it('GitLab failures: 5xx and 429 are retryable tick errors, 401/403/404 are configuration errors; the remote is left as it was', async () => {
    const s = await scenario(['glfail']);
    const before = s.refs();
    const attempt = async (): Promise<Error> => {
      const e = await failure(s.tick(0));
      expect(s.refs()).toBe(before);
      s.expectCloneAtRemote();
      return e;
    };

    s.gl.failNext({ method: 'GET', status: 502, body: { message: '502 Bad Gateway' } });
    let e = await attempt();
    expect(e).toBeInstanceOf(GitLabUnavailableError);
    expect(e).toBeInstanceOf(TickError);
    expect(e.message).toBe('GitLab API GET /projects/acme%2Fplatform%2Fdeploy/merge_requests answered 502 "502 Bad Gateway"; GitLab failed, the next tick retries');

    // Opening fails after the push: the pushed branch is deleted again.
    s.gl.failNext({ method: 'POST', status: 500 });
    e = await attempt();
    expect(e).toBeInstanceOf(GitLabUnavailableError);

    s.gl.failNext({ status: 429, body: { message: 'Retry later' }, headers: { 'ratelimit-reset': '1767225600' } });
    e = await attempt();
    expect(e).toBeInstanceOf(GitLabUnavailableError);
    expect(e.message).toMatch(/rate limited until 2026-01-01T00:00:00.000Z; the next tick retries/);

    s.gl.failNext({ status: 403, body: { message: '403 Forbidden' } });
    e = await attempt();
    expect(e).toBeInstanceOf(GitLabRequestError);
    expect(e).toMatchObject({ exitCode: 2, status: 403 });
    expect(e.message).toMatch(/answered 403 "403 Forbidden": the token may not open merge requests on acme\/platform\/deploy: it needs the api scope/);

    s.gl.failNext({ method: 'POST', status: 422, body: { message: { target_branch: ['is invalid'] } } });
    e = await attempt();
    expect(e).toBeInstanceOf(GitLabRequestError);
    expect(e.message).toMatch(/answered 422 "target_branch is invalid": GitLab refused the merge request/);

    // A server echoing the token back: redacted.
    s.gl.failNext({ status: 404, body: { message: `404 Project Not Found (PRIVATE-TOKEN: ${TOKEN})` } });
    e = await attempt();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain('PRIVATE-TOKEN: ***');
    expect(e.message).toMatch(/no project acme\/platform\/deploy at http:\/\/127.0.0.1:\d+\/api\/v4, or the token cannot see it/);

    // A wrong token: GitLab's real 401.
    const wrong = { ...s.deps(), pullRequests: pullRequestHostFor(s.config, { CANARYKIT_GITLAB_TOKEN: 'glpat-revoked' }) };
    e = await failure(step({ repoDir: s.clone, config: s.config, select: { all: true } }, wrong));
    expect(e).toMatchObject({ exitCode: 2, status: 401 });
    expect(e.message).toMatch(/answered 401 "401 Unauthorized": CANARYKIT_GITLAB_TOKEN was rejected/);

    // Unreachable API.
    const closed = await startGitLabServer({ token: TOKEN, project: PROJECT, projectId: PROJECT_ID, remote: s.fx.remote });
    await closed.stop();
    const down = { ...s.config, git: { ...s.config.git, pullRequest: { ...s.config.git.pullRequest!, apiUrl: closed.url } } };
    e = await failure(step({ repoDir: s.clone, config: down, select: { all: true } }, { ...s.deps(), pullRequests: pullRequestHostFor(down, { CANARYKIT_GITLAB_TOKEN: TOKEN }) }));
    expect(e).toBeInstanceOf(GitLabUnavailableError);
    expect(e.message).toMatch(/^GitLab API GET http:\/\/127.0.0.1:\d+\/api\/v4\/projects\/acme%2Fplatform%2Fdeploy\/merge_requests failed: .*ECONNREFUSED.*; nothing was changed there, try again$/);
    expect(s.refs()).toBe(before);

    expect(s.gl.mergeRequests).toHaveLength(0);
    expect((await s.tick(0)).outcomes[0].pullRequest).toMatchObject({ status: 'opened', number: 1 });
  });

  it('stage merge requests show the run\'s weight chart (mermaid xychart-beta), the checks table and Prometheus links', async () => {
    const s = await scenario(['glchart']);
    const branch = 'canarykit/glchart/podinfo';
    const mergeNext = async (): Promise<string> => {
      const report = await s.tick();
      const n = report.outcomes[0].pullRequest!.number!;
      s.gl.merge(n);
      return (s.gl.requests.filter((r) => r.method === 'POST').at(-1)!.body as { description: string }).description;
    };
    await mergeNext(); // Initializing
    const initialized = await mergeNext();
    expect(initialized).not.toContain('```mermaid');
    s.fx.pushConcurrently({ 'app.json': appJson({ canaries: [{ namespace: 'glchart', image: 'podinfo:6.1.0' }] }) }, 'release 6.1.0');
    await mergeNext(); // start analysis
    await mergeNext(); // 0 -> 10
    const body = await mergeNext(); // 10 -> 20
    expect(s.fx.remoteGit('log', '-1', '--format=%s', branch)).toBe('canary(glchart/podinfo): advance weight 10 -> 20');
    // The chart: Initialized (0), start (0), 10, and the proposed 20; primary mirrors it.
    expect(body).toContain(['```mermaid', 'xychart-beta', '  title "glchart/podinfo traffic weight (%)"'].join('\n'));
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
    expect(s.gl.mergeRequests.length).toBe(5);
  }, 300_000);

  it('the CLI: missing token and a rejected token exit 2, a step opens the merge request', async () => {
    const s = await scenario(['glcli']);
    writeFileSync(join(s.clone, 'canarykit.yaml'), [
      `synth: ${TSX} ${join(ROOT, 'test/support/synth-repo-cli.ts')} ${prom.url}`,
      'git:',
      '  mode: pull-request',
      `  pullRequest: { provider: gitlab, repository: ${PROJECT}, apiUrl: "${s.gl.url}" }`,
      '  committer: { name: canarykit-ci, email: ci@example.test }',
      '',
    ].join('\n'));
    git(s.clone, ['add', 'canarykit.yaml']);
    git(s.clone, ['commit', '-qm', 'configure canarykit: merge requests']);
    git(s.clone, ['push', '-q', 'origin', 'HEAD:main']);
    const before = s.refs();
    const run = async (args: string[], token: string | undefined) => {
      vi.stubEnv('CANARYKIT_GITHUB_TOKEN', undefined);
      vi.stubEnv('CANARYKIT_GITLAB_TOKEN', token);
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
    expect(r.err).toMatch(/^error: git.mode is pull-request but CANARYKIT_GITLAB_TOKEN is not set/);
    expect(s.gl.requests).toHaveLength(0);

    r = await run(['step'], 'glpat-revoked');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/answered 401 "401 Unauthorized": CANARYKIT_GITLAB_TOKEN was rejected/);
    expect(r.err).not.toContain('glpat-revoked');
    expect(s.refs()).toBe(before);

    r = await run(['step', '--json'], TOKEN);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ pushed: true, outcomes: [{ canary: 'glcli/podinfo', pullRequest: { status: 'opened', number: 1, url: `${s.gl.webUrl}/-/merge_requests/1` } }] });
    s.expectCloneAtRemote();

    r = await run(['step'], TOKEN);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`glcli/podinfo: waiting for review of pull request #1 (${s.gl.webUrl}/-/merge_requests/1) [Uninitialized weight 0 failed 0]`);
  }, 180_000);
});
