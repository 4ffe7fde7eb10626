import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ValidationError } from '../errors';
import { AnalysisPlan, PLAN_API_VERSION, PLAN_FILE } from './plan';

/** A plan and where its folder is, relative to the repository root. */
export interface PlanEntry {
  readonly plan: AnalysisPlan;
  /** `<outdir>/<namespace>/<name>` */
  readonly folder: string;
}

/** Every `canary.plan.json` under the output folder, sorted by namespace/name. */
export function readPlans(repoDir: string, outdir: string): PlanEntry[] {
  const root = path.join(repoDir, outdir);
  if (!fs.existsSync(root)) return [];
  const entries: PlanEntry[] = [];
  for (const rel of (fs.readdirSync(root, { recursive: true }) as string[]).sort()) {
    if (path.basename(rel) !== PLAN_FILE) continue;
    const file = path.join(root, rel);
    let plan: AnalysisPlan;
    try {
      plan = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ValidationError([{ path: path.join(outdir, rel), message: `not valid JSON (${(e as Error).message}); re-run synth` }], 'invalid analysis plan');
    }
    if (plan.apiVersion !== PLAN_API_VERSION || plan.kind !== 'AnalysisPlan') {
      throw new ValidationError([{ path: path.join(outdir, rel), message: `expected ${PLAN_API_VERSION} AnalysisPlan; re-run synth with this canarykit version` }], 'invalid analysis plan');
    }
    entries.push({ plan, folder: path.join(outdir, path.dirname(rel)).split(path.sep).join('/') });
  }
  return entries.sort((a, b) => `${a.plan.namespace}/${a.plan.name}`.localeCompare(`${b.plan.namespace}/${b.plan.name}`));
}

/** `spec.replicas` of a committed Deployment manifest; undefined when absent (an HPA owns it). */
export function committedReplicas(repoDir: string, folder: string, deployment: string): number | undefined {
  const file = path.join(repoDir, folder, `deployment-${deployment}.yaml`);
  if (!fs.existsSync(file)) return undefined;
  const replicas = parse(fs.readFileSync(file, 'utf8'))?.spec?.replicas;
  return typeof replicas === 'number' ? replicas : undefined;
}
