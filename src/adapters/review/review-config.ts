// The review hosts' part of canarykit.yaml (`git.pullRequest`) and their tokens' environment.

/** Review hosts `git.mode: pull-request` can open pull (GitHub) or merge (GitLab) requests on. */
export type ReviewProvider = 'github' | 'gitlab';

/** Where `git.mode: pull-request` opens its pull requests. */
export interface PullRequestConfig {
  provider: ReviewProvider;
  /** GitHub: `owner/name`. GitLab: the project's path (`group/subgroup/project`) or numeric id. */
  repository: string;
  /** REST API root, e.g. `https://api.github.com` or `https://gitlab.example.com/api/v4`. */
  apiUrl: string;
  /** Each canary's branch is `<branchPrefix><namespace>/<name>`. */
  branchPrefix: string;
}

/** Environment variable holding the GitHub token (never read from a file). */
export const GITHUB_TOKEN_ENV = 'CANARYKIT_GITHUB_TOKEN';
/** Environment variable holding the GitLab token (never read from a file). */
export const GITLAB_TOKEN_ENV = 'CANARYKIT_GITLAB_TOKEN';

/** What each review provider needs from canarykit.yaml and the environment (one owner for these facts). */
export const REVIEW_PROVIDERS = {
  github: {
    label: 'GitHub',
    tokenEnv: GITHUB_TOKEN_ENV,
    defaultApiUrl: 'https://api.github.com',
    repositoryPattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$',
    repositoryHint: 'must be owner/name, e.g. acme/deploy',
  },
  gitlab: {
    label: 'GitLab',
    tokenEnv: GITLAB_TOKEN_ENV,
    defaultApiUrl: 'https://gitlab.com/api/v4',
    // A numeric project id, or the full path of the project (group and subgroups, then the project).
    repositoryPattern: '^(?:[1-9][0-9]*|[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+)$',
    repositoryHint: 'must be the project path (group/project, group/subgroup/project) or its numeric id, e.g. acme/deploy or 42',
  },
} as const satisfies Record<ReviewProvider, { label: string; tokenEnv: string; defaultApiUrl: string; repositoryPattern: string; repositoryHint: string }>;

export const DEFAULT_PULL_REQUEST: Omit<PullRequestConfig, 'repository' | 'apiUrl'> = {
  provider: 'github',
  branchPrefix: 'canarykit/',
};
