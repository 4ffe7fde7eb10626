/**
 * writeFolders' scratch siblings of the output folder: `dist.staging-<pid>` (being written) and
 * `dist.old-<pid>` (the previous output, until the swap is done). A synth killed between the two
 * renames leaves them behind; the step driver removes them (src/stages/clone-leftovers.ts).
 */
export function scratchFolder(outdir: string, kind: 'staging' | 'old', pid = process.pid): string {
  return `${outdir}.${kind}-${pid}`;
}

/** What follows the output folder's name in a scratch folder's name. */
export const SCRATCH_SUFFIX = /^\.(staging|old)-\d+$/;
