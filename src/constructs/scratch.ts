import * as path from 'path';

/**
 * writeFolders' scratch siblings of the output folder: `.dist.staging-<pid>` (being written) and
 * `.dist.old-<pid>` (the previous output, until the swap is done). A synth killed between the two
 * renames leaves them behind; the step driver removes them (src/adapters/git/clone-leftovers.ts).
 * The name keeps at most 32 characters of the output folder's name, so an outdir near the
 * file-name limit cannot overflow with the suffix.
 */
export function scratchFolder(outdir: string, kind: 'staging' | 'old', pid = process.pid): string {
  return path.join(path.dirname(outdir), `${scratchPrefix(outdir)}.${kind}-${pid}`);
}

/** The part of a scratch folder's name before its suffix, for `outdir`. */
export function scratchPrefix(outdir: string): string {
  return `.${path.basename(outdir).slice(0, 32)}`;
}

/** What follows {@link scratchPrefix} in a scratch folder's name. */
export const SCRATCH_SUFFIX = /^\.(staging|old)-\d+$/;
