/**
 * A GitHub REST API server for tests, on 127.0.0.1: the pull-request endpoints canarykit uses,
 * with GitHub's paths, JSON shapes, status codes and headers, an in-memory pull-request store,
 * and a real bare git repository as the repository's git side (heads are resolved there, and
 * `merge` merges there). Requests that GitHub would accept but that break canarykit's contract
 * (a missing API version header, unexpected fields) are refused with a `test server:` message.
 */
import { execFileSync } from 'node:child_process';
import { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const API_VERSION = '2022-11-28';
const DOCS = 'https://docs.github.com/rest/pulls/pulls';

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (POST). */
  body?: unknown;
  /** Status the server answered. */
  status: number;
}

export interface StoredPull {
  number: number;
  title: string;
  body: string | null;
  head: string;
  headSha: string;
  base: string;
  state: 'open' | 'closed';
  merged: boolean;
  createdAt: string;
}

/** A canned answer for the next matching request(s). */
export interface InjectedFailure {
  method?: 'GET' | 'POST';
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** @default 1 */
  times?: number;
}

export interface GitHubServerOptions {
  /** The one token the server accepts. */
  token: string;
  /** `owner/name` of the only repository it knows. */
  repository: string;
  /** Bare git repository holding the repository's branches. */
  remote: string;
}

export interface GitHubServer {
  /** API root, e.g. `http://127.0.0.1:40123` (use as git.pullRequest.apiUrl). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly pulls: StoredPull[];
  /** Answers the next matching request(s) with `failure` instead of handling them. */
  failNext(failure: InjectedFailure): void;
  /**
   * Merges an open pull request as GitHub's merge button does: `merge` makes a merge commit on the
   * base branch (committer GitHub), `fast-forward` moves the base to the head (as a rebase merge of
   * a branch already on top of the base would). Marks it closed and merged.
   */
  merge(number: number, how?: 'merge' | 'fast-forward'): string;
  /** Closes a pull request without merging. */
  close(number: number): void;
  stop(): Promise<void>;
}

export async function startGitHubServer(options: GitHubServerOptions): Promise<GitHubServer> {
  const [owner, repo] = options.repository.split('/');
  const requests: RecordedRequest[] = [];
  const pulls: StoredPull[] = [];
  const failures: InjectedFailure[] = [];
  let remaining = 5000;
  let url = '';

  const git = (args: string[], cwd = options.remote, env: NodeJS.ProcessEnv = process.env): string =>
    execFileSync('git', args, { cwd, env: { ...env, LC_ALL: 'C' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const branchSha = (branch: string): string | undefined => {
    try {
      return git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
    } catch {
      return undefined;
    }
  };

  const pullJson = (p: StoredPull): Record<string, unknown> => {
    const repoJson = { id: 1, name: repo, full_name: options.repository, private: true, owner: { login: owner, type: 'Organization' } };
    return {
      url: `${url}/repos/${owner}/${repo}/pulls/${p.number}`,
      id: 1000 + p.number,
      node_id: `PR_test${p.number}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: { login: 'canarykit-bot', type: 'User' },
      body: p.body,
      created_at: p.createdAt,
      updated_at: p.createdAt,
      closed_at: p.state === 'closed' ? p.createdAt : null,
      merged_at: p.merged ? p.createdAt : null,
      draft: false,
      head: { label: `${owner}:${p.head}`, ref: p.head, sha: p.headSha, user: { login: owner }, repo: repoJson },
      base: { label: `${owner}:${p.base}`, ref: p.base, sha: branchSha(p.base) ?? '', user: { login: owner }, repo: repoJson },
      author_association: 'MEMBER',
    };
  };

  const send = (res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    record.status = status;
    remaining = Math.max(0, remaining - 1);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': API_VERSION,
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': `TEST:${requests.length}`,
      ...headers,
    });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const error = (message: string, status: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    message,
    ...extra,
    documentation_url: DOCS,
    status: String(status),
  });
  const validationFailed = (errors: Record<string, unknown>[]): Record<string, unknown> => error('Validation Failed', 422, { errors });

  const handle = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    const parsed = new URL(req.url ?? '/', 'http://placeholder');
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      headers: req.headers,
      status: 0,
    };
    requests.push(record);
    if (text !== '') {
      try {
        record.body = JSON.parse(text);
      } catch {
        return send(res, record, 400, error('Problems parsing JSON', 400));
      }
    }
    const h = req.headers;
    if (!h['user-agent']) {
      return send(res, record, 403, error('Request forbidden by administrative rules. Please make sure your request has a User-Agent header', 403));
    }
    if (h['x-github-api-version'] !== API_VERSION) {
      return send(res, record, 400, error(`test server: X-GitHub-Api-Version must be ${API_VERSION} (got ${String(h['x-github-api-version'])})`, 400));
    }
    if (h.accept !== 'application/vnd.github+json') {
      return send(res, record, 400, error(`test server: Accept must be application/vnd.github+json (got ${String(h.accept)})`, 400));
    }
    if (!h.authorization) return send(res, record, 401, error('Requires authentication', 401));
    if (h.authorization !== `Bearer ${options.token}`) return send(res, record, 401, error('Bad credentials', 401));

    const failure = failures.find((f) => !f.method || f.method === req.method);
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) failures.splice(failures.indexOf(failure), 1);
      return send(res, record, failure.status, failure.body ?? error(failure.status >= 500 ? 'Server Error' : 'Error', failure.status), failure.headers);
    }

    const route = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(parsed.pathname);
    if (!route) return send(res, record, 404, error('Not Found', 404));
    if (decodeURIComponent(route[1]) !== owner || decodeURIComponent(route[2]) !== repo) return send(res, record, 404, error('Not Found', 404));

    if (req.method === 'GET') {
      const known = ['state', 'head', 'base', 'sort', 'direction', 'per_page', 'page'];
      const unknown = Object.keys(record.query).filter((k) => !known.includes(k));
      if (unknown.length > 0) return send(res, record, 400, error(`test server: unexpected query parameters ${unknown.join(', ')}`, 400));
      const state = record.query.state ?? 'open';
      const head = record.query.head;
      if (head !== undefined && !head.includes(':')) return send(res, record, 400, error('test server: head must be owner:branch', 400));
      const found = pulls.filter(
        (p) =>
          (state === 'all' || p.state === state) &&
          (head === undefined || `${owner}:${p.head}` === head) &&
          (record.query.base === undefined || p.base === record.query.base),
      );
      return send(res, record, 200, found.sort((a, b) => b.number - a.number).map(pullJson));
    }

    if (req.method === 'POST') {
      if (!String(h['content-type'] ?? '').startsWith('application/json')) {
        return send(res, record, 400, error('test server: Content-Type must be application/json', 400));
      }
      const body = record.body as Record<string, unknown> | undefined;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return send(res, record, 400, error('Problems parsing JSON', 400));
      const extra = Object.keys(body).filter((k) => !['title', 'head', 'base', 'body'].includes(k));
      if (extra.length > 0) return send(res, record, 400, error(`test server: unexpected fields ${extra.join(', ')}`, 400));
      const missing = ['title', 'head', 'base'].filter((k) => typeof body[k] !== 'string' || body[k] === '');
      if (missing.length > 0) return send(res, record, 422, validationFailed(missing.map((field) => ({ resource: 'PullRequest', code: 'missing_field', field }))));
      if (body.body !== undefined && typeof body.body !== 'string') return send(res, record, 422, validationFailed([{ resource: 'PullRequest', code: 'invalid', field: 'body' }]));
      const head = String(body.head);
      const base = String(body.base);
      const baseSha = branchSha(base);
      if (!baseSha) return send(res, record, 422, validationFailed([{ resource: 'PullRequest', code: 'invalid', field: 'base' }]));
      const headSha = branchSha(head);
      if (!headSha) return send(res, record, 422, validationFailed([{ resource: 'PullRequest', code: 'invalid', field: 'head' }]));
      if (pulls.some((p) => p.state === 'open' && p.head === head && p.base === base)) {
        return send(res, record, 422, validationFailed([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }]));
      }
      if (git(['rev-list', '--count', `${baseSha}..${headSha}`]) === '0') {
        return send(res, record, 422, validationFailed([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]));
      }
      const pull: StoredPull = {
        number: pulls.length + 1,
        title: String(body.title),
        body: typeof body.body === 'string' ? body.body : null,
        head,
        headSha,
        base,
        state: 'open',
        merged: false,
        createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      };
      pulls.push(pull);
      return send(res, record, 201, pullJson(pull), { location: `${url}/repos/${owner}/${repo}/pulls/${pull.number}` });
    }
    return send(res, record, 404, error('Not Found', 404));
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const openPull = (number: number): StoredPull => {
    const p = pulls.find((x) => x.number === number);
    if (!p || p.state !== 'open') throw new Error(`pull request #${number} is not open`);
    return p;
  };

  return {
    url,
    requests,
    pulls,
    failNext: (failure) => {
      failures.push({ ...failure });
    },
    merge: (number, how = 'merge') => {
      const p = openPull(number);
      const headSha = branchSha(p.head);
      const baseSha = branchSha(p.base);
      if (!headSha || !baseSha) throw new Error(`cannot merge #${number}: a branch is missing`);
      let merged: string;
      if (how === 'fast-forward') {
        git(['merge-base', '--is-ancestor', baseSha, headSha]);
        git(['update-ref', `refs/heads/${p.base}`, headSha, baseSha]);
        merged = headSha;
      } else {
        const work = mkdtempSync(join(tmpdir(), 'canarykit-gh-merge-'));
        try {
          const env = {
            ...process.env,
            GIT_AUTHOR_NAME: 'Reviewer',
            GIT_AUTHOR_EMAIL: 'reviewer@example.test',
            GIT_COMMITTER_NAME: 'GitHub',
            GIT_COMMITTER_EMAIL: 'noreply@github.com',
          };
          git(['clone', '--quiet', '--branch', p.base, options.remote, work], work, env);
          git(['merge', '--no-ff', '--quiet', '-m', `Merge pull request #${number} from ${owner}/${p.head}`, headSha], work, env);
          git(['push', '--quiet', 'origin', `HEAD:refs/heads/${p.base}`], work, env);
          merged = git(['rev-parse', 'HEAD'], work, env);
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      }
      p.state = 'closed';
      p.merged = true;
      return merged;
    },
    close: (number) => {
      openPull(number).state = 'closed';
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; close them so stop() does not wait for their timeout.
        server.closeAllConnections();
      }),
  };
}
