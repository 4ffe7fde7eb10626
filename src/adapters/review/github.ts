import { ConfigError, GitHubRequestError, GitHubUnavailableError } from '../../errors';
import { redactCredentials } from '../git/git';
import { readBody } from '../../http-body';
import { excerpt, redact } from '../../redact';
import { ApiAnswer, pathOnly, rateLimitUntil, requestJson } from './json-api';
import type { OpenPullRequest, PullRequest, ReviewHost } from './review-host';

/**
 * GitHub's REST API for pull requests (API version 2022-11-28): the two calls `git.mode:
 * pull-request` needs, nothing else. The token is sent only as `Authorization: Bearer` and is
 * removed from every message this file produces.
 */

export const GITHUB_API_VERSION = '2022-11-28';

export interface GitHubOptions {
  /** `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  apiUrl: string;
  /** `owner/name`. */
  repository: string;
  /** Branch the pull requests merge into (the branch Flux watches). */
  base: string;
  token: string;
  /** @default 30 s */
  timeoutMs?: number;
}

/** One API answer. */
type Answer = ApiAnswer;

/** A pull request as GitHub returns it (the fields canarykit reads). */
interface GitHubPull {
  number: number;
  html_url: string;
  head: { ref: string };
}

export function githubPullRequests(options: GitHubOptions): ReviewHost {
  return new GitHubPullRequests(options);
}

class GitHubPullRequests implements ReviewHost {
  readonly description: string;
  /** GitHub refuses pull request bodies longer than 65,536 characters. */
  readonly maxBodyLength = 65_536;
  private readonly api: string;
  private readonly owner: string;
  private readonly repo: string;

  constructor(private readonly options: GitHubOptions) {
    if (options.token === '') throw new ConfigError('the GitHub token is empty');
    let url: URL;
    try {
      url = new URL(options.apiUrl);
    } catch {
      throw new ConfigError(`git.pullRequest.apiUrl "${redactCredentials(options.apiUrl)}" is not a URL`);
    }
    if (url.username || url.password) {
      throw new ConfigError('git.pullRequest.apiUrl must not contain credentials; the token comes from CANARYKIT_GITHUB_TOKEN');
    }
    this.api = url.href.replace(/\/+$/, '');
    [this.owner, this.repo] = options.repository.split('/');
    this.description = `GitHub ${options.repository}`;
  }

  async findOpen(branch: string): Promise<PullRequest | undefined> {
    const query = new URLSearchParams({ state: 'open', head: `${this.owner}:${branch}`, base: this.options.base });
    const answer = await this.call('GET', `${this.pullsPath()}?${query}`);
    if (answer.status !== 200 || !Array.isArray(answer.json)) throw this.unexpected('GET', answer);
    const found = (answer.json as unknown[]).find((p): p is GitHubPull => isPull(p) && p.head.ref === branch);
    return found && { number: found.number, url: found.html_url, branch };
  }

  async open(request: { branch: string; title: string; body: string }): Promise<OpenPullRequest> {
    const payload = { title: request.title, head: request.branch, base: this.options.base, body: request.body };
    const answer = await this.call('POST', this.pullsPath(), payload, [422]);
    if (answer.status === 422) {
      // Someone (another driver, a person) opened one for the branch since we looked: use it.
      if (errorTexts(answer.json).some((t) => /a pull request already exists/i.test(t))) {
        const existing = await this.findOpen(request.branch);
        if (existing) return { pullRequest: existing, existing: true };
      }
      throw this.failure('POST', this.pullsPath(), answer);
    }
    if (answer.status !== 201 || !isPull(answer.json)) throw this.unexpected('POST', answer);
    return { pullRequest: { number: answer.json.number, url: answer.json.html_url, branch: request.branch }, existing: false };
  }

  private pullsPath(): string {
    return `/repos/${encodeURIComponent(this.owner)}/${encodeURIComponent(this.repo)}/pulls`;
  }

  /** Sends one request; any status >= 400 not in `accept` becomes a typed error. */
  private async call(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown, accept: number[] = []): Promise<Answer> {
    const answer = await requestJson({
      label: 'GitHub API',
      api: this.api,
      method,
      pathAndQuery,
      headers: {
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': GITHUB_API_VERSION,
        Authorization: `Bearer ${this.options.token}`,
        'User-Agent': 'canarykit',
      },
      body,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      // Capped at 1 MiB; a cut body does not parse and is reported as an unexpected answer.
      read: async (response) => (await readBody(response)).text,
      unavailable: (message) => new GitHubUnavailableError(message),
      redact: (text) => this.redact(text),
    });
    if (answer.status >= 400 && !accept.includes(answer.status)) throw this.failure(method, pathAndQuery, answer);
    return answer;
  }

  /** The typed error for a status >= 400: who has to act, and how. */
  private failure(method: string, pathAndQuery: string, answer: Answer): Error {
    const apiMessage = describeErrorBody(answer.json, [this.options.token]) || '(no message)';
    const what = `GitHub API ${method} ${pathOnly(pathAndQuery)} answered ${answer.status} ${apiMessage}`;
    const repository = this.options.repository;
    const s = answer.status;
    const rateLimited = s === 429 || (s === 403 && (answer.headers.get('x-ratelimit-remaining') === '0' || /rate limit/i.test(apiMessage)));
    if (rateLimited) {
      const when = rateLimitUntil(answer.headers.get('x-ratelimit-reset'));
      return new GitHubUnavailableError(`${what}: rate limited${when}; the next tick retries`, s);
    }
    if (s >= 500) return new GitHubUnavailableError(`${what}; GitHub failed, the next tick retries`, s);
    const hint =
      s === 401 ? 'CANARYKIT_GITHUB_TOKEN was rejected (expired, revoked or mistyped): set a valid token'
      : s === 403 ? `the token may not use pull requests of ${repository}: give it "Pull requests: Read and write" on that repository (classic tokens: the repo scope)`
      : s === 404 ? `no repository ${repository} at ${this.api}, or the token cannot see it: check git.pullRequest.repository and apiUrl, and the token's repository access`
      : s === 422 ? `GitHub refused the pull request: check that git.branch (${this.options.base}) exists on ${repository} and that git.remote is that repository`
      : 'check git.pullRequest in canarykit.yaml';
    return new GitHubRequestError(this.redact(`${what}: ${hint}`), s, apiMessage);
  }

  private unexpected(method: string, answer: Answer): Error {
    return new GitHubUnavailableError(`GitHub API ${method} ${this.pullsPath()} answered ${answer.status} with an unexpected body; the next tick retries`, answer.status);
  }

  private redact(text: string): string {
    return redact(text, [this.options.token]);
  }
}

function isPull(value: unknown): value is GitHubPull {
  const v = value as Partial<GitHubPull> | null;
  return typeof v === 'object' && v !== null && typeof v.number === 'number' && typeof v.html_url === 'string' && typeof v.head?.ref === 'string';
}

/** GitHub's error body: `{message, errors?: [{message?, code, field?, resource?}], documentation_url}`. */
function errorTexts(json: unknown): string[] {
  const body = json as { message?: unknown; errors?: unknown } | undefined;
  const out: string[] = [];
  if (typeof body?.message === 'string') out.push(body.message);
  if (Array.isArray(body?.errors)) {
    for (const e of body.errors as { message?: unknown; code?: unknown; field?: unknown }[]) {
      if (typeof e?.message === 'string') out.push(e.message);
      else if (typeof e?.code === 'string') out.push(typeof e.field === 'string' ? `${e.field} ${e.code}` : e.code);
    }
  }
  return out;
}

/** GitHub's error message, redacted before it is shortened (a token cut in half would not match). */
function describeErrorBody(json: unknown, secrets: readonly string[]): string {
  const [message, ...details] = errorTexts(json);
  if (message === undefined) return '';
  const text = details.length > 0 ? `${message} (${details.join('; ')})` : message;
  return `"${excerpt(text, 300, secrets)}"`;
}
