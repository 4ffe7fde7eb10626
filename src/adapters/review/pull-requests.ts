import * as path from 'path';
import { ConfigError } from '../../errors';
import { CanarykitConfig } from '../config';
import { GitWorkspace } from '../git/git';
import { reviewHostFor } from './review-hosts';
import type { OpenPullRequest, PullRequest, ReviewHost } from './review-host';
import { CanaryState } from '../../model/state';
import { writeStateFile } from '../../model/state-store';

/**
 * `git.mode: pull-request`: each canary stage becomes a pull request to the branch Flux watches,
 * from the canary's own branch `<branchPrefix><namespace>/<name>`. At most one is open per canary;
 * merging it applies the stage, and the tick after the merge proposes the next one.
 */

export type { OpenPullRequest, PullRequest, ReviewHost } from './review-host';
/** The review host of pull-request mode (kept under its first name; see src/adapters/review/review-host.ts). */
export type PullRequestHost = ReviewHost;

/** What a tick reports about a canary's pull request. */
export interface PullRequestReport {
  /** `opened` this tick; `open` already, waiting for review (nothing pushed); `would-open` in a dry run. */
  status: 'opened' | 'open' | 'would-open';
  branch: string;
  number?: number;
  url?: string;
  /** Title of the pull request opened or to be opened. */
  title?: string;
}

/** `<branchPrefix><namespace>/<name>`. */
export function pullRequestBranch(config: CanarykitConfig, namespace: string, name: string): string {
  return `${requirePullRequestConfig(config).branchPrefix}${namespace}/${name}`;
}

export function isPullRequestMode(config: CanarykitConfig): boolean {
  return config.git.mode === 'pull-request';
}

function requirePullRequestConfig(config: CanarykitConfig): NonNullable<CanarykitConfig['git']['pullRequest']> {
  const pr = config.git.pullRequest;
  if (!pr) throw new ConfigError('git.mode is pull-request but git.pullRequest is missing: set git.pullRequest.repository');
  return pr;
}

/**
 * The review host for a configuration in pull-request mode (GitHub or GitLab, by
 * `git.pullRequest.provider`), with its token from the environment; undefined in push mode.
 * ConfigError when the token is missing.
 */
export function pullRequestHostFor(config: CanarykitConfig, env: NodeJS.ProcessEnv = process.env): PullRequestHost | undefined {
  if (!isPullRequestMode(config)) return undefined;
  return reviewHostFor(config.git.branch, requirePullRequestConfig(config), env);
}

/** One canary stage to propose. */
export interface StageProposal {
  branch: string;
  /** Repository-relative paths. */
  stateFile: string;
  folder: string;
  state: CanaryState;
  /** Commit message: its subject is the title, the rest the body. */
  message: string;
  /** When the stage was decided (the commit's author date). */
  date?: Date;
}

export interface ProposalDeps {
  git: GitWorkspace;
  synth(): Promise<unknown>;
  pullRequests: PullRequestHost;
  log(line: string): void;
}

/** Title and body of a pull request: the commit message's subject, and everything after it. */
export function titleAndBody(message: string): { title: string; body: string } {
  const [title, ...rest] = message.split('\n');
  return { title, body: rest.join('\n').replace(/^\n+/, '').trimEnd() };
}

/**
 * Builds the stage commit on the canary's branch at `base.sha` (only this canary's state file and
 * folder), force-pushes the branch and opens the pull request. The clone always ends on the base
 * branch exactly at `base.sha`, with `cleanPaths` cleaned; the base branch is never pushed. When
 * opening fails after the push, the pushed branch is deleted again (best effort), so a failed
 * proposal leaves the remote as it was.
 */
export async function proposeStage(
  repoDir: string,
  proposal: StageProposal,
  base: { sha: string; cleanPaths: readonly string[] },
  deps: ProposalDeps,
): Promise<{ commit: string; pullRequest: PullRequest; existing: boolean } | undefined> {
  try {
    await deps.git.checkoutBranch(proposal.branch, base.sha);
    writeStateFile(path.join(repoDir, proposal.stateFile), proposal.state);
    await deps.synth();
    const commit = await deps.git.commit({ message: proposal.message, paths: [proposal.stateFile, proposal.folder], date: proposal.date });
    if (!commit) return undefined;
    await deps.git.forcePushBranch(proposal.branch);
    const { title, body: full } = titleAndBody(proposal.message);
    // Hosts refuse oversized descriptions; the commit keeps the full text.
    const body = full.length > deps.pullRequests.maxBodyLength ? `${full.slice(0, deps.pullRequests.maxBodyLength - 40)}\n\n(truncated; see the commit)` : full;
    let opened: OpenPullRequest;
    try {
      opened = await deps.pullRequests.open({ branch: proposal.branch, title, body });
    } catch (e) {
      await deps.git.deleteRemoteBranch(proposal.branch).catch((d: Error) => deps.log(`could not delete branch ${proposal.branch} again: ${d.message}`));
      throw e;
    }
    return { commit, ...opened };
  } finally {
    await deps.git.rollbackLocal(base.sha, base.cleanPaths);
  }
}
