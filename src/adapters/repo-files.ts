import * as fs from 'fs';
import * as path from 'path';
import { StalePlanError, ValidationError } from '../errors';
import { AnalysisPlan, PLAN_API_VERSION, PLAN_FILE } from '../model/plan';
import { isSafeRelativePath } from '../constructs/output-dir';
import { readTextFile } from '../limits';
import { canaryIdProblems } from '../names';

/** A plan and where its folder is, relative to the repository root. */
export interface PlanEntry {
  readonly plan: AnalysisPlan;
  /** `<outdir>/<namespace>/<name>` */
  readonly folder: string;
}

/**
 * Every `canary.plan.json` of the output folder, sorted by namespace/name. A plan belongs in
 * `<outdir>/<namespace>/<name>/`: one found directly in `<outdir>/` or `<outdir>/<namespace>/` is
 * refused as misplaced, and the canaries' own folders are not listed (they hold ~11 files each, and
 * listing 11,000 files was most of an idle tick at 1,000 canaries, issue 14), so a plan nested deeper
 * than its canary's folder is not looked for.
 */
export function readPlans(repoDir: string, outdir: string): PlanEntry[] {
  return readPlansOrKnown<never>(repoDir, outdir, () => undefined) as PlanEntry[];
}

/**
 * readPlans, except that a canary folder for which `known(folder, planFile)` answers (the resting
 * index, asked before the plan is read) is that answer instead of its plan. Only a canary's own
 * folder (`<outdir>/<namespace>/<name>`) is asked; the order is the same. With `only` (a
 * `namespace/name`), the other canaries' folders are skipped: their plans are neither read nor
 * checked (a one-canary tick at a thousand canaries, issue 14); misplaced plans are still refused.
 */
export function readPlansOrKnown<H extends { readonly namespace: string; readonly name: string }>(
  repoDir: string,
  outdir: string,
  known: (folder: string, planFile: string) => H | undefined,
  only?: string,
): Array<PlanEntry | H> {
  const root = path.join(repoDir, outdir);
  if (!fs.existsSync(root)) return [];
  const entries: Array<PlanEntry | H> = [];
  const realRoot = fs.realpathSync.native(repoDir);
  const inside = insideChecker(realRoot);
  const onlyDir = only === undefined ? undefined : path.join(...only.split('/'));
  for (const rel of planCandidates(root)) {
    const file = path.join(root, rel);
    if (onlyDir !== undefined && rel.split(path.sep).length === 3 && path.dirname(rel) !== onlyDir) continue;
    if (rel.split(path.sep).length === 3) {
      const hit = known(path.join(outdir, path.dirname(rel)).split(path.sep).join('/'), file);
      if (hit) {
        entries.push(hit);
        continue;
      }
    }
    const text = readTextFile(file, path.join(outdir, rel), undefined, 're-run synth');
    if (text === undefined) continue; // a folder two levels down without a plan
    let plan: AnalysisPlan;
    try {
      plan = JSON.parse(text);
    } catch (e) {
      throw new ValidationError([{ path: path.join(outdir, rel), message: `not valid JSON (${(e as Error).message}); re-run synth` }], 'invalid analysis plan');
    }
    if (plan?.apiVersion !== PLAN_API_VERSION || plan.kind !== 'AnalysisPlan') {
      throw new ValidationError([{ path: path.join(outdir, rel), message: `expected ${PLAN_API_VERSION} AnalysisPlan; re-run synth with this canarykit version` }], 'invalid analysis plan');
    }
    if (!hasCurrentFacts(plan)) {
      throw new StalePlanError([{ path: path.join(outdir, rel), message: 'lacks routing or replicas facts (written by an older canarykit); re-run synth with this canarykit version' }], 'outdated analysis plan');
    }
    const folder = path.join(outdir, path.dirname(rel)).split(path.sep).join('/');
    const problems = planPathProblems(inside, outdir, folder, plan);
    if (problems.length > 0) throw new ValidationError(problems.map((message) => ({ path: path.join(outdir, rel), message })), 'invalid analysis plan');
    entries.push({ plan, folder });
  }
  const id = (e: PlanEntry | H): string => ('plan' in e ? `${e.plan.namespace}/${e.plan.name}` : `${e.namespace}/${e.name}`);
  // Intl.Collator's compare is what localeCompare does without arguments, without building a collator per call.
  const collator = new Intl.Collator();
  return entries.sort((a, b) => collator.compare(id(a), id(b)));
}

/**
 * Paths (relative to the output folder, sorted) where a plan may lie: plan files directly in the
 * output folder or a namespace folder, and `<namespace>/<name>/canary.plan.json` for every
 * folder two levels down (whether it exists is left to the caller).
 */
function planCandidates(root: string): string[] {
  const out: string[] = [];
  for (const ns of fs.readdirSync(root, { withFileTypes: true })) {
    if (!ns.isDirectory()) {
      if (ns.name === PLAN_FILE) out.push(ns.name);
      continue;
    }
    for (const name of fs.readdirSync(path.join(root, ns.name), { withFileTypes: true })) {
      if (name.isDirectory()) out.push(path.join(ns.name, name.name, PLAN_FILE));
      else if (name.name === PLAN_FILE) out.push(path.join(ns.name, name.name));
    }
  }
  return out.sort();
}

/** Plans since issue 9 carry the facts the driver reads: the provider's (RoutingFacts) and the stage's replicas. */
function hasCurrentFacts(plan: AnalysisPlan): boolean {
  const r = (plan as { routing?: unknown }).routing as Record<string, unknown> | undefined;
  const n = (plan as { replicas?: unknown }).replicas as Record<string, unknown> | undefined;
  return typeof r === 'object' && r !== null && typeof r.flaggerName === 'string' && typeof r.shiftsWeights === 'boolean' && typeof r.promotionSteps === 'boolean'
    && typeof n === 'object' && n !== null && (typeof n.canary === 'number' || typeof plan.workloads === 'object');
}

/**
 * The driver writes `plan.stateFile` and commits `folder`: a plan that names another canary's
 * place, or a path leaving the repository (`..`, an absolute path, a symlink out), is refused.
 */
function planPathProblems(inside: (rel: string) => boolean, outdir: string, folder: string, plan: AnalysisPlan): string[] {
  const ids = canaryIdProblems(plan.namespace, plan.name, { namespace: 'namespace', name: 'name' });
  if (ids.length > 0) return ids.map((p) => `${p.path}: ${p.message}; re-run synth`);
  const out: string[] = [];
  const expected = path.join(outdir, plan.namespace, plan.name).split(path.sep).join('/');
  if (folder !== expected) out.push(`is for ${plan.namespace}/${plan.name} but lies in ${folder}/, not ${expected}/; re-run synth`);
  const stateFile = typeof plan.stateFile === 'string' ? plan.stateFile : '';
  if (!isSafeRelativePath(stateFile) || !stateFile.endsWith(`/${plan.namespace}/${plan.name}.json`) || stateFile.split('/')[0] === '.git') {
    out.push(`stateFile must be <stateDir>/${plan.namespace}/${plan.name}.json inside the repository (got ${JSON.stringify(plan.stateFile)}); re-run synth`);
  } else if (!inside(stateFile)) {
    out.push(`stateFile ${stateFile} leads out of the repository through a symbolic link; remove the link`);
  }
  return out;
}

/** Whether `rel` under `root` resolves inside `root`, following the symlinks of its existing part. */
export function staysInside(root: string, rel: string): boolean {
  return insideChecker(fs.realpathSync.native(root))(rel);
}

/**
 * staysInside for many paths under one root, whose real path is `realRoot` (resolved once: a
 * realpath per plan was a sixth of an idle tick at a thousand canaries, issue 14). A path none of
 * whose existing components is a symbolic link resolves to itself, so it is answered with one
 * lstat per component (the folders shared by many paths, such as the state folder, once); a path
 * through a symbolic link is resolved as before.
 */
function insideChecker(realRoot: string): (rel: string) => boolean {
  const folders = new Map<string, 'real' | 'absent' | 'link'>();
  const kind = (p: string): 'real' | 'absent' | 'link' => {
    try {
      return fs.lstatSync(p).isSymbolicLink() ? 'link' : 'real';
    } catch {
      return 'absent'; // as resolveInside's probe: any error means "not there"
    }
  };
  return (rel) => {
    const back = path.relative(realRoot, path.join(realRoot, rel));
    if (back === '' || back.startsWith('..') || path.isAbsolute(back)) return resolveInside(realRoot, rel);
    const parts = back.split(path.sep);
    let probe = realRoot;
    for (let i = 0; i < parts.length; i++) {
      probe = path.join(probe, parts[i]);
      const last = i === parts.length - 1;
      let k = last ? undefined : folders.get(probe);
      if (k === undefined) {
        k = kind(probe);
        if (!last) folders.set(probe, k);
      }
      if (k === 'link') return resolveInside(realRoot, rel);
      if (k === 'absent') return true; // the rest does not exist: nothing below can lead out
    }
    return true;
  };
}

/** Whether `rel` under `realRoot` (a real path) resolves inside it, following the symlinks of its existing part. */
function resolveInside(realRoot: string, rel: string): boolean {
  let probe = path.join(realRoot, rel);
  const rest: string[] = [];
  const present = (p: string): boolean => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  while (!present(probe) && path.dirname(probe) !== probe) {
    rest.unshift(path.basename(probe));
    probe = path.dirname(probe);
  }
  let real: string;
  try {
    real = fs.realpathSync.native(probe);
  } catch {
    return false; // a dangling symlink: writing through it would create its target wherever it points
  }
  const resolved = path.join(real, ...rest);
  const back = path.relative(realRoot, resolved);
  return back !== '' && !back.startsWith('..') && !path.isAbsolute(back);
}
