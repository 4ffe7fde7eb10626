import { ConfigError } from '../../errors';
import { PullRequestConfig, REVIEW_PROVIDERS, ReviewProvider } from './review-config';
import { githubPullRequests } from './github';
import { gitlabMergeRequests } from './gitlab';
import type { ReviewHost } from './review-host';

/** How each provider's host is built; adding a review host is one file plus one line here. */
const FACTORIES = {
  github: (o) => githubPullRequests(o),
  gitlab: (o) => gitlabMergeRequests(o),
} satisfies Record<ReviewProvider, (options: { apiUrl: string; repository: string; base: string; token: string }) => ReviewHost>;

/**
 * The review host of `git.pullRequest`, its token taken from the provider's environment variable
 * (never from a file). ConfigError, before anything is fetched or written, when it is not set.
 */
export function reviewHostFor(base: string, pr: PullRequestConfig, env: NodeJS.ProcessEnv): ReviewHost {
  const facts = REVIEW_PROVIDERS[pr.provider];
  const token = env[facts.tokenEnv];
  if (!token) {
    const what = pr.provider === 'gitlab' ? 'merge requests' : 'pull requests';
    throw new ConfigError(
      `git.mode is pull-request but ${facts.tokenEnv} is not set: export a ${facts.label} token allowed to open ${what} on ${pr.repository} ` +
        '(it is read from the environment only, never from a file)',
    );
  }
  return FACTORIES[pr.provider]({ apiUrl: pr.apiUrl, repository: pr.repository, base, token });
}
