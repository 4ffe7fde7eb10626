import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Problem, ValidationError } from '../errors';
import { Canary } from './canary';
import { OutputFolder, renderFolder } from './output';
import { Json } from './workload/deployment-json';

/**
 * Validating and rendering an app's charts into output folders, a batch at a time. `take` handles
 * the app's current top-level children and, with `release`, removes them, so a compile of
 * thousands of canaries can build and render them in batches and never hold every construct at
 * once (issue 14: peak memory at 5,000 canaries). The folders, and the problems `finish` throws,
 * are those of one pass over the whole app: the validation problems of every construct in tree
 * order, then the folder clashes in chart order.
 */
export class RenderPass {
  private readonly validation: Problem[] = [];
  private readonly placement: Problem[] = [];
  private readonly seen = new Map<string, string>();
  /** Cluster-scoped objects canaries write (`apiVersion kind name`) -> the folder writing each. */
  private readonly clusterScoped = new Map<string, string>();
  private readonly folders: OutputFolder[] = [];
  private rootValidated = false;

  constructor(private readonly app: App) {}

  take(release: boolean): void {
    if (!this.rootValidated) {
      this.validate(this.app);
      this.rootValidated = true;
    }
    const children = [...this.app.node.children];
    for (const child of children) for (const c of child.node.findAll()) this.validate(c);
    for (const child of children) {
      for (const chart of child.node.findAll().filter((c): c is Chart => c instanceof Chart)) this.renderChart(chart);
    }
    if (release) for (const child of children) this.app.node.tryRemoveChild(child.node.id);
  }

  /** Folders that wrote a cluster-scoped object (compile's record rebuilds them every time). */
  clusterScopedFolders(): ReadonlySet<string> {
    return new Set(this.clusterScoped.values());
  }

  /** The folders, in chart order; throws every problem found instead when there is one. */
  finish(): OutputFolder[] {
    const problems = [...this.validation, ...this.placement];
    if (problems.length > 0) throw new ValidationError(problems, 'synth failed, nothing was written');
    return this.folders;
  }

  private validate(c: IConstruct): void {
    const at = `[${c.node.path}]`;
    // A Canary's problems name the field: "[chart/canary] analysis.maxWeight: must be ...".
    if (Canary.isCanary(c)) for (const p of c.validateProblems()) this.validation.push({ path: `${at} ${p.path}`, message: p.message });
    else for (const message of c.node.validate()) this.validation.push({ path: at, message });
  }

  private renderChart(chart: Chart): void {
    const owned = chart.node.findAll().filter((c) => Chart.of(c) === chart);
    const canaries = owned.filter(Canary.isCanary);
    if (canaries.length > 1) {
      this.placement.push({ path: `[${chart.node.path}]`, message: `holds ${canaries.length} Canaries; put each Canary in its own Chart so each gets its own folder` });
      return;
    }
    const canary = canaries[0];
    const dir = canary ? `${canary.namespace}/${canary.name}` : chart.node.id;
    const other = this.seen.get(dir);
    if (other !== undefined) {
      this.placement.push({ path: `[${chart.node.path}]`, message: `writes to ${dir}/, as does [${other}]; give one of them another name or namespace` });
      return;
    }
    this.seen.set(dir, chart.node.path);
    // Once anything is wrong nothing is written: rendering more would be wasted work.
    if (this.validation.length + this.placement.length > 0) return;
    const objects = owned.filter((c): c is ApiObject => c instanceof ApiObject).map((o) => o.toJson() as Json);
    // A routing object without a namespace (a cluster-scoped kind) named after the apex Service
    // would be written by two canaries of that name in different namespaces: one object, two owners.
    if (canary) {
      for (const o of objects.filter((x) => x.metadata?.namespace === undefined)) {
        const key = `${o.apiVersion} ${o.kind} ${o.metadata?.name}`;
        const first = this.clusterScoped.get(key);
        if (first !== undefined && first !== dir) {
          this.placement.push({ path: `[${chart.node.path}]`, message: `writes the cluster-scoped ${o.kind} "${o.metadata?.name}", as does ${first}/; one object cannot belong to two canaries (set service.name to give one of them another name)` });
          return;
        }
        this.clusterScoped.set(key, dir);
      }
    }
    this.folders.push(renderFolder(dir, objects, canary?.plan));
  }
}
