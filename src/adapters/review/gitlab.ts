import { ConfigError, GitLabRequestError, GitLabUnavailableError } from '../../errors';
import { redactCredentials } from '../git/git';
import { ApiAnswer, pathOnly, rateLimitUntil, requestJson } from './json-api';
import type { OpenPullRequest, PullRequest, ReviewHost } from './review-host';

/**
 * GitLab's REST API v4 for merge requests: the two calls `git.mode: pull-request` needs with
 * `provider: gitlab`, nothing else. The token is sent only in the `PRIVATE-TOKEN` header and is
 * removed from every message this file produces.
 */

export interface GitLabOptions {
  /** `https://gitlab.com/api/v4`, or `https://<host>/api/v4` for a self-managed instance. */
  apiUrl: string;
  /** The project's full path (`group/subgroup/project`) or its numeric id. */
  repository: string;
  /** Branch the merge requests merge into (the branch Flux watches). */
  base: string;
  token: string;
  /** @default 30 s */
  timeoutMs?: number;
}

type Answer = ApiAnswer;

/** A merge request as GitLab returns it (the fields canarykit reads). */
interface GitLabMergeRequest {
  iid: number;
  web_url: string;
  source_branch: string;
}

export function gitlabMergeRequests(options: GitLabOptions): ReviewHost {
  return new GitLabMergeRequests(options);
}

class GitLabMergeRequests implements ReviewHost {
  readonly description: string;
  /** GitLab limits descriptions to 1,048,576 characters. */
  readonly maxBodyLength = 1_048_576;
  private readonly api: string;

  constructor(private readonly options: GitLabOptions) {
    if (options.token === '') throw new ConfigError('the GitLab token is empty');
    let url: URL;
    try {
      url = new URL(options.apiUrl);
    } catch {
      throw new ConfigError(`git.pullRequest.apiUrl "${redactCredentials(options.apiUrl)}" is not a URL`);
    }
    if (url.username || url.password) {
      throw new ConfigError('git.pullRequest.apiUrl must not contain credentials; the token comes from CANARYKIT_GITLAB_TOKEN');
    }
    this.api = url.href.replace(/\/+$/, '');
    this.description = `GitLab ${options.repository}`;
  }

  async findOpen(branch: string): Promise<PullRequest | undefined> {
    const query = new URLSearchParams({ state: 'opened', source_branch: branch, target_branch: this.options.base });
    const answer = await this.call('GET', `${this.mergeRequestsPath()}?${query}`);
    if (answer.status !== 200 || !Array.isArray(answer.json)) throw this.unexpected('GET', answer);
    const found = (answer.json as unknown[]).find((m): m is GitLabMergeRequest => isMergeRequest(m) && m.source_branch === branch);
    return found && { number: found.iid, url: found.web_url, branch };
  }

  async open(request: { branch: string; title: string; body: string }): Promise<OpenPullRequest> {
    const payload = { source_branch: request.branch, target_branch: this.options.base, title: request.title, description: request.body };
    const answer = await this.call('POST', this.mergeRequestsPath(), payload, [409]);
    if (answer.status === 409) {
      // "Another open merge request already exists for this source branch": someone opened one
      // since we looked; use it.
      if (errorTexts(answer.json).some((t) => /already exists/i.test(t))) {
        const existing = await this.findOpen(request.branch);
        if (existing) return { pullRequest: existing, existing: true };
      }
      throw this.failure('POST', this.mergeRequestsPath(), answer);
    }
    if (answer.status !== 201 || !isMergeRequest(answer.json)) throw this.unexpected('POST', answer);
    return { pullRequest: { number: answer.json.iid, url: answer.json.web_url, branch: request.branch }, existing: false };
  }

  /** `/projects/:id/merge_requests`, the id being the numeric id or the URL-encoded path. */
  private mergeRequestsPath(): string {
    return `/projects/${encodeURIComponent(this.options.repository)}/merge_requests`;
  }

  /** Sends one request; any status >= 400 not in `accept` becomes a typed error. */
  private async call(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown, accept: number[] = []): Promise<Answer> {
    const answer = await requestJson({
      label: 'GitLab API',
      api: this.api,
      method,
      pathAndQuery,
      headers: { Accept: 'application/json', 'PRIVATE-TOKEN': this.options.token, 'User-Agent': 'canarykit' },
      body,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      read: (response) => response.text(),
      unavailable: (message) => new GitLabUnavailableError(message),
      redact: (text) => this.redact(text),
    });
    if (answer.status >= 400 && !accept.includes(answer.status)) throw this.failure(method, pathAndQuery, answer);
    return answer;
  }

  /** The typed error for a status >= 400: who has to act, and how. */
  private failure(method: string, pathAndQuery: string, answer: Answer): Error {
    const apiMessage = this.redact(describeErrorBody(answer.json) || '(no message)');
    const what = `GitLab API ${method} ${pathOnly(pathAndQuery)} answered ${answer.status} ${apiMessage}`;
    const project = this.options.repository;
    const s = answer.status;
    if (s === 429) {
      const when = rateLimitUntil(answer.headers.get('ratelimit-reset'));
      return new GitLabUnavailableError(`${what}: rate limited${when}; the next tick retries`, s);
    }
    if (s >= 500) return new GitLabUnavailableError(`${what}; GitLab failed, the next tick retries`, s);
    const hint =
      s === 401 ? 'CANARYKIT_GITLAB_TOKEN was rejected (expired, revoked or mistyped): set a valid token with the api scope'
      : s === 403 ? `the token may not open merge requests on ${project}: it needs the api scope and at least the Developer role on the project`
      : s === 404 ? `no project ${project} at ${this.api}, or the token cannot see it: check git.pullRequest.repository and apiUrl, and the token's access`
      : s === 409 ? `GitLab refused the merge request as a conflict: check for an open merge request from its branch into ${this.options.base}`
      : s === 400 || s === 422 ? `GitLab refused the merge request: check that git.branch (${this.options.base}) exists on ${project} and that git.remote is that project`
      : 'check git.pullRequest in canarykit.yaml';
    return new GitLabRequestError(this.redact(`${what}: ${hint}`), s, apiMessage);
  }

  private unexpected(method: string, answer: Answer): Error {
    return new GitLabUnavailableError(`GitLab API ${method} ${this.mergeRequestsPath()} answered ${answer.status} with an unexpected body; the next tick retries`, answer.status);
  }

  private redact(text: string): string {
    return redactCredentials(text.split(this.options.token).join('***'));
  }
}

function isMergeRequest(value: unknown): value is GitLabMergeRequest {
  const v = value as Partial<GitLabMergeRequest> | null;
  return typeof v === 'object' && v !== null && typeof v.iid === 'number' && typeof v.web_url === 'string' && typeof v.source_branch === 'string';
}

/**
 * GitLab's error bodies: `{message: "404 Project Not Found"}`, `{message: ["..."]}`,
 * `{message: {field: ["..."]}}` (model validation) or `{error: "title is missing"}` (parameters).
 */
function errorTexts(json: unknown): string[] {
  const body = json as { message?: unknown; error?: unknown } | undefined;
  const out: string[] = [];
  const add = (v: unknown, field?: string): void => {
    if (typeof v === 'string') out.push(field ? `${field} ${v}` : v);
    else if (Array.isArray(v)) v.forEach((x) => add(x, field));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) add(x, k);
  };
  add(body?.message);
  add(body?.error);
  return out;
}

function describeErrorBody(json: unknown): string {
  const texts = errorTexts(json);
  if (texts.length === 0) return '';
  return `"${texts.join('; ').replace(/\s+/g, ' ').slice(0, 300)}"`;
}
