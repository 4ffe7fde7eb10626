/**
 * A GitLab REST API v4 server for tests, on 127.0.0.1: the merge-request endpoints canarykit uses
 * (`GET`/`POST /api/v4/projects/:id/merge_requests`), with GitLab's paths, project ids (numeric or
 * URL-encoded path), JSON shapes, status codes, error bodies and rate-limit headers, an in-memory
 * merge-request store, and a real bare git repository as the project's git side (branches are
 * resolved there, and `merge` merges there). Requests GitLab would accept but that break
 * canarykit's contract (unexpected fields or parameters) are refused with a `test server:` message.
 */
import { execFileSync } from 'node:child_process';
import { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  /** Raw path without the query (the project id stays URL-encoded, as sent). */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body?: unknown;
  status: number;
}

export interface StoredMergeRequest {
  iid: number;
  title: string;
  description: string | null;
  sourceBranch: string;
  targetBranch: string;
  sha: string;
  state: 'opened' | 'closed' | 'merged';
  createdAt: string;
}

export interface InjectedFailure {
  method?: 'GET' | 'POST';
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** @default 1 */
  times?: number;
}

export interface GitLabServerOptions {
  /** The one token the server accepts (`PRIVATE-TOKEN` or `Authorization: Bearer`). */
  token: string;
  /** Full path of the only project it knows, e.g. `acme/platform/deploy`. */
  project: string;
  /** Its numeric id. */
  projectId: number;
  /** Bare git repository holding the project's branches. */
  remote: string;
}

export interface GitLabServer {
  /** API root, e.g. `http://127.0.0.1:40123/api/v4` (use as git.pullRequest.apiUrl). */
  readonly url: string;
  /** Web root the `web_url`s use. */
  readonly webUrl: string;
  readonly requests: RecordedRequest[];
  readonly mergeRequests: StoredMergeRequest[];
  failNext(failure: InjectedFailure): void;
  /** Merges an open merge request as GitLab's merge button does (a merge commit by default). */
  merge(iid: number, how?: 'merge' | 'fast-forward'): string;
  close(iid: number): void;
  stop(): Promise<void>;
}

export async function startGitLabServer(options: GitLabServerOptions): Promise<GitLabServer> {
  const requests: RecordedRequest[] = [];
  const mergeRequests: StoredMergeRequest[] = [];
  const failures: InjectedFailure[] = [];
  let remaining = 2000;
  let root = '';

  const git = (args: string[], cwd = options.remote, env: NodeJS.ProcessEnv = process.env): string =>
    execFileSync('git', args, { cwd, env: { ...env, LC_ALL: 'C' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const branchSha = (branch: string): string | undefined => {
    try {
      return git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
    } catch {
      return undefined;
    }
  };
  const webUrl = (): string => `${root}/${options.project}`;

  const mrJson = (m: StoredMergeRequest): Record<string, unknown> => ({
    id: 5000 + m.iid,
    iid: m.iid,
    project_id: options.projectId,
    title: m.title,
    description: m.description,
    state: m.state,
    created_at: m.createdAt,
    updated_at: m.createdAt,
    merged_at: m.state === 'merged' ? m.createdAt : null,
    closed_at: m.state === 'closed' ? m.createdAt : null,
    target_branch: m.targetBranch,
    source_branch: m.sourceBranch,
    author: { id: 7, username: 'canarykit-bot', name: 'canarykit', state: 'active' },
    source_project_id: options.projectId,
    target_project_id: options.projectId,
    draft: false,
    work_in_progress: false,
    merge_when_pipeline_succeeds: false,
    merge_status: 'can_be_merged',
    detailed_merge_status: 'mergeable',
    sha: m.sha,
    merge_commit_sha: null,
    squash: false,
    references: { short: `!${m.iid}`, relative: `!${m.iid}`, full: `${options.project}!${m.iid}` },
    web_url: `${webUrl()}/-/merge_requests/${m.iid}`,
    has_conflicts: false,
  });

  const send = (res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    record.status = status;
    remaining = Math.max(0, remaining - 1);
    res.writeHead(status, {
      'content-type': 'application/json',
      'ratelimit-limit': '2000',
      'ratelimit-remaining': String(remaining),
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60),
      'x-request-id': `TEST${requests.length}`,
      ...headers,
    });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    const raw = req.url ?? '/';
    const [rawPath] = raw.split('?', 1);
    const parsed = new URL(raw, 'http://placeholder');
    const record: RecordedRequest = { method: req.method ?? '', path: rawPath, query: Object.fromEntries(parsed.searchParams), headers: req.headers, status: 0 };
    requests.push(record);
    if (text !== '') {
      try {
        record.body = JSON.parse(text);
      } catch {
        return send(res, record, 400, { error: 'The provided content-type is not supported or the body is not valid JSON' });
      }
    }
    const h = req.headers;
    const given = typeof h['private-token'] === 'string' ? h['private-token'] : String(h.authorization ?? '').replace(/^Bearer /, '');
    if (given !== options.token) return send(res, record, 401, { message: '401 Unauthorized' });

    const failure = failures.find((f) => !f.method || f.method === req.method);
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) failures.splice(failures.indexOf(failure), 1);
      return send(res, record, failure.status, failure.body ?? { message: failure.status >= 500 ? '500 Internal Server Error' : `${failure.status} Error` }, failure.headers);
    }

    const route = /^\/api\/v4\/projects\/([^/]+)\/merge_requests$/.exec(rawPath);
    if (!route) return send(res, record, 404, { error: '404 Not Found' });
    // GitLab takes the numeric id or the URL-encoded full path (a literal "/" would be a new segment).
    const id = decodeURIComponent(route[1]);
    if (id !== options.project && id !== String(options.projectId)) return send(res, record, 404, { message: '404 Project Not Found' });

    if (req.method === 'GET') {
      const known = ['state', 'source_branch', 'target_branch', 'order_by', 'sort', 'per_page', 'page'];
      const unknown = Object.keys(record.query).filter((k) => !known.includes(k));
      if (unknown.length > 0) return send(res, record, 400, { error: `test server: unexpected query parameters ${unknown.join(', ')}` });
      const state = record.query.state ?? 'all';
      if (!['opened', 'closed', 'locked', 'merged', 'all'].includes(state)) return send(res, record, 400, { error: 'state does not have a valid value' });
      const found = mergeRequests.filter(
        (m) =>
          (state === 'all' || m.state === state) &&
          (record.query.source_branch === undefined || m.sourceBranch === record.query.source_branch) &&
          (record.query.target_branch === undefined || m.targetBranch === record.query.target_branch),
      );
      return send(res, record, 200, found.sort((a, b) => b.iid - a.iid).map(mrJson), { 'x-total': String(found.length), 'x-page': '1' });
    }

    if (req.method === 'POST') {
      if (!String(h['content-type'] ?? '').startsWith('application/json')) {
        return send(res, record, 400, { error: 'test server: Content-Type must be application/json' });
      }
      const body = record.body as Record<string, unknown> | undefined;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return send(res, record, 400, { error: 'source_branch is missing, target_branch is missing, title is missing' });
      const extra = Object.keys(body).filter((k) => !['source_branch', 'target_branch', 'title', 'description'].includes(k));
      if (extra.length > 0) return send(res, record, 400, { error: `test server: unexpected fields ${extra.join(', ')}` });
      const missing = ['source_branch', 'target_branch', 'title'].filter((k) => typeof body[k] !== 'string' || body[k] === '');
      if (missing.length > 0) return send(res, record, 400, { error: missing.map((k) => `${k} is missing`).join(', ') });
      const source = String(body.source_branch);
      const target = String(body.target_branch);
      if (typeof body.description === 'string' && body.description.length > 1_048_576) {
        return send(res, record, 400, { message: { description: ['is too long (maximum is 1048576 characters)'] } });
      }
      const sourceSha = branchSha(source);
      if (!sourceSha) return send(res, record, 422, { message: { source_branch: ['is invalid'] } });
      if (!branchSha(target)) return send(res, record, 422, { message: { target_branch: ['is invalid'] } });
      const open = mergeRequests.find((m) => m.state === 'opened' && m.sourceBranch === source && m.targetBranch === target);
      if (open) return send(res, record, 409, { message: [`Another open merge request already exists for this source branch: !${open.iid}`] });
      const mr: StoredMergeRequest = {
        iid: mergeRequests.length + 1,
        title: String(body.title),
        description: typeof body.description === 'string' ? body.description : null,
        sourceBranch: source,
        targetBranch: target,
        sha: sourceSha,
        state: 'opened',
        createdAt: new Date().toISOString(),
      };
      mergeRequests.push(mr);
      return send(res, record, 201, mrJson(mr));
    }
    return send(res, record, 405, { error: '405 Method Not Allowed' });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const openMr = (iid: number): StoredMergeRequest => {
    const m = mergeRequests.find((x) => x.iid === iid);
    if (!m || m.state !== 'opened') throw new Error(`merge request !${iid} is not open`);
    return m;
  };

  return {
    url: `${root}/api/v4`,
    webUrl: webUrl(),
    requests,
    mergeRequests,
    failNext: (failure) => {
      failures.push({ ...failure });
    },
    merge: (iid, how = 'merge') => {
      const m = openMr(iid);
      const headSha = branchSha(m.sourceBranch);
      const baseSha = branchSha(m.targetBranch);
      if (!headSha || !baseSha) throw new Error(`cannot merge !${iid}: a branch is missing`);
      let merged: string;
      if (how === 'fast-forward') {
        git(['merge-base', '--is-ancestor', baseSha, headSha]);
        git(['update-ref', `refs/heads/${m.targetBranch}`, headSha, baseSha]);
        merged = headSha;
      } else {
        const work = mkdtempSync(join(tmpdir(), 'canarykit-gl-merge-'));
        try {
          const env = {
            ...process.env,
            GIT_AUTHOR_NAME: 'Reviewer',
            GIT_AUTHOR_EMAIL: 'reviewer@example.test',
            GIT_COMMITTER_NAME: 'GitLab',
            GIT_COMMITTER_EMAIL: 'gitlab@example.test',
          };
          git(['clone', '--quiet', '--branch', m.targetBranch, options.remote, work], work, env);
          const message = `Merge branch '${m.sourceBranch}' into '${m.targetBranch}'\n\n${m.title}\n\nSee merge request ${options.project}!${iid}`;
          git(['merge', '--no-ff', '--quiet', '-m', message, headSha], work, env);
          git(['push', '--quiet', 'origin', `HEAD:refs/heads/${m.targetBranch}`], work, env);
          merged = git(['rev-parse', 'HEAD'], work, env);
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      }
      m.state = 'merged';
      return merged;
    },
    close: (iid) => {
      openMr(iid).state = 'closed';
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
