import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Problem, ValidationError } from '../errors';
import { Canary } from './canary';
import { OutputFolder, renderFolder } from './output';
import { Json } from './workload/deployment-json';

const ORIGIN = Symbol.for('canarykit.origin');

/** Says where an object comes from (compile: its input document), for the one-object-one-folder check's message. */
export function setOrigin(obj: ApiObject, origin: string): void {
  (obj as unknown as Record<symbol, string>)[ORIGIN] = origin;
}

function originOf(obj: ApiObject): string | undefined {
  return (obj as unknown as Record<symbol, string | undefined>)[ORIGIN];
}

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
  /** Canaries' warnings ("[chart/canary] analysis.interval: ..."), in tree order. */
  readonly warnings: Problem[] = [];
  private readonly seen = new Map<string, string>();
  /** Cluster-scoped objects canaries write (`apiVersion kind name`) -> the folder writing each. */
  private readonly clusterScoped = new Map<string, string>();
  /** Every object written (`group|kind|namespace|name`) -> who writes it: two writers are two owners of one object. */
  private readonly written = new Map<string, string>();
  /** The keys of `written` by the folder writing them, in the order written: outputsOf without a scan of every object. */
  private readonly writtenBy = new Map<string, string[]>();
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

  /** `group|kind|namespace|name` of every object written to `dir`. */
  outputsOf(dir: string): string[] {
    const own = this.writtenBy.get(dir) ?? [];
    // A folder inside `dir` (a chart named like a canary's namespace) is rare: then the slow scan.
    const nested = [...this.writtenBy.keys()].some((d) => d.startsWith(`${dir}/`));
    return nested ? [...this.written].filter(([, who]) => who === dir || who.startsWith(`${dir}/`)).map(([k]) => k) : [...own];
  }

  private record(dir: string, key: string, who: string): void {
    this.written.set(key, who);
    const keys = this.writtenBy.get(dir);
    if (keys) keys.push(key);
    else this.writtenBy.set(dir, [key]);
  }

  /**
   * Counts the objects of a folder kept on disk (compile's record) as written by it, so a folder
   * rendered in this pass cannot write one of them too.
   */
  reserve(dir: string, keys: readonly string[]): void {
    for (const key of keys) {
      const first = this.written.get(key);
      if (first !== undefined) {
        this.placement.push({ path: `${dir}/`, message: `${key.split('|').join(' ')} is in ${dir}/ (kept from the last compile) and also written to ${first}; the output must hold one object per group, kind, namespace and name: remove or rename one of them` });
      } else this.record(dir, key, `${dir}/ (kept)`);
    }
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

  /**
   * At most one object per API group, kind, namespace and name across all folders: applied
   * together, two would fight over one object (issue 11). Records this folder's objects; false
   * with a problem naming both writers when one is already written.
   */
  private writeOnce(chart: Chart, dir: string, apiObjects: readonly ApiObject[], objects: readonly Json[], isCanary: boolean): boolean {
    const mine: Array<[string, string]> = [];
    let ok = true;
    objects.forEach((o, i) => {
      const apiVersion = String(o.apiVersion);
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const ns = o.metadata?.namespace;
      const key = `${group}|${o.kind}|${ns ?? 'default'}|${o.metadata?.name}`;
      const origin = originOf(apiObjects[i]);
      const who = `${dir}/${origin ? ` (from ${origin})` : isCanary ? ' (generated by the Canary)' : ''}`;
      const first = this.written.get(key) ?? mine.find(([k]) => k === key)?.[1];
      if (first !== undefined) {
        ok = false;
        const what = `${group ? `${group} ` : ''}${o.kind} ${ns ? `${ns}/` : ''}${o.metadata?.name}`;
        this.placement.push({
          path: origin ?? `[${chart.node.path}]`,
          message: `${origin ? '' : `${what} `}would be written to ${dir}/ and also to ${first}; the output must hold one object per group, kind, namespace and name: remove or rename one of them`,
        });
      } else mine.push([key, who]);
    });
    for (const [k, who] of mine) this.record(dir, k, who);
    return ok;
  }

  private validate(c: IConstruct): void {
    const at = `[${c.node.path}]`;
    // A Canary's problems name the field: "[chart/canary] analysis.maxWeight: must be ...".
    if (Canary.isCanary(c)) {
      for (const p of c.validateProblems()) this.validation.push({ path: `${at} ${p.path}`, message: p.message });
      for (const w of c.validateWarnings()) this.warnings.push({ path: `${at} ${w.path}`, message: w.message });
    } else for (const message of c.node.validate()) this.validation.push({ path: at, message });
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
    const apiObjects = owned.filter((c): c is ApiObject => c instanceof ApiObject);
    const objects = apiObjects.map((o) => o.toJson() as Json);
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
    if (!this.writeOnce(chart, dir, apiObjects, objects, !!canary)) return;
    this.folders.push(renderFolder(dir, objects, canary?.plan));
  }
}
