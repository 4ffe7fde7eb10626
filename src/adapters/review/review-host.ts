/**
 * The review-host seam: where `git.mode: pull-request` proposes each stage for review. GitHub pull
 * requests (src/adapters/review/github.ts) and GitLab merge requests (src/adapters/review/gitlab.ts) implement the
 * same two calls, so the driver has one set of semantics: at most one open review per canary
 * branch, merging it applies the stage, the tick after the merge proposes the next one.
 */

/** An open pull request (GitHub) or merge request (GitLab). */
export interface PullRequest {
  /** GitHub's pull request number, GitLab's merge request `iid` (the `!N` people see). */
  number: number;
  /** The page people review (`html_url` / `web_url`). */
  url: string;
  /** Head (source) branch. */
  branch: string;
}

export interface OpenPullRequest {
  pullRequest: PullRequest;
  /** True when one was already open for the branch (opened since we looked). */
  existing: boolean;
}

/** Where stages are proposed for review. */
export interface ReviewHost {
  /** For messages, e.g. `GitHub acme/deploy` or `GitLab group/deploy`. */
  readonly description: string;
  /** Largest body (PR/MR description) the host accepts, in characters. */
  readonly maxBodyLength: number;
  /** The open review from `branch` into the base branch, if any. */
  findOpen(branch: string): Promise<PullRequest | undefined>;
  /** Opens a review from `branch` (already pushed) into the base branch. */
  open(request: { branch: string; title: string; body: string }): Promise<OpenPullRequest>;
}
