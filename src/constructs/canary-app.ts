import * as fs from 'fs';
import * as path from 'path';
import { App, AppProps } from 'cdk8s';
import { ValidationError } from '../errors';
import { ControllerSettings, ControllerSettingsInput, controllerSettingProblems, controllerSettings, mergeControllerSettings } from '../model/controller-settings';
import { OutputFolder } from './output';
import { RenderPass } from './render-pass';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT, OutputDirOptions, assertWritableOutputDir, isSafeRelativePath } from './output-dir';
import { scratchFolder } from './scratch';
import { foldersAreDisjoint, updateOutput } from './output-update';

/**
 * A cdk8s App that writes one kustomize-ready folder per chart: `<namespace>/<canary name>/` for a
 * chart holding a Canary (manifests, kustomization.yaml, canary.plan.json), `<chart id>/` for a
 * chart without one. Everything is validated and rendered in memory first; on any problem nothing
 * is written and the previous output stays as it was.
 */
export interface CanaryAppProps extends AppProps {
  /**
   * Folder that state directories are relative to (the repository root).
   * @default - the working directory
   */
  readonly stateRoot?: string;
  /**
   * Folder of state files, relative to `stateRoot`, for every Canary that sets no `stateDir`.
   * The step driver passes canarykit.yaml's `stateDir` to the synth command this way, as cdk8s
   * passes the output folder in CDK8S_OUTDIR.
   * @default - $CANARYKIT_STATE_DIR, else 'state'
   */
  readonly stateDir?: string;
  /**
   * Flagger's controller flags that shape the output (selector labels, label prefixes, NGINX
   * annotation prefix, Contour ingress class, metrics server), as `controller:` of canarykit.yaml
   * spells them; lists are arrays. The step driver passes canarykit.yaml's `controller:` to the
   * synth command in CANARYKIT_CONTROLLER; a key set both there and here with another value is an error.
   * @default - $CANARYKIT_CONTROLLER, else Flagger's defaults (model/controller-settings.ts)
   */
  readonly controller?: ControllerSettingsInput;
}

/** The environment variable the driver passes canarykit.yaml's `controller:` in (JSON). */
export const CONTROLLER_ENV = 'CANARYKIT_CONTROLLER';

export class CanaryApp extends App {
  /** Folder that state directories are relative to. */
  readonly stateRoot: string;
  /** Folder of state files for Canaries that set none. */
  readonly stateDir: string;
  /** Flagger's controller settings every Canary of this app renders with. */
  readonly controller: ControllerSettings;

  constructor(props: CanaryAppProps = {}) {
    super(props);
    this.stateRoot = props.stateRoot ?? '.';
    // Read here, at the composition root, like cdk8s' App reads CDK8S_OUTDIR: constructs read no environment.
    this.stateDir = props.stateDir ?? process.env.CANARYKIT_STATE_DIR ?? 'state';
    this.controller = resolveController(props.controller, process.env[CONTROLLER_ENV]);
  }

  /** Renders every folder without writing (used by synth, tests and the compile command). */
  render(): OutputFolder[] {
    const pass = new RenderPass(this);
    pass.take(false);
    const folders = pass.finish();
    this.renderWarnings = pass.warnings.map((w) => `${w.path}: ${w.message}`);
    return folders;
  }

  /** The last render's warnings: values Flagger corrects at run time, corrected the same way (`[chart/canary] analysis.interval: ...`). */
  get warnings(): string[] {
    return [...this.renderWarnings];
  }

  private renderWarnings: string[] = [];

  /** Validates, renders, then replaces the output directory in one step; warnings go to stderr. */
  override synth(): void {
    writeFolders(this.outdir, this.render());
    for (const w of this.renderWarnings) process.stderr.write(`warning: ${w}\n`);
  }
}

/** The prop merged with the driver's canarykit.yaml settings; a contradiction or a bad value throws. */
function resolveController(prop: ControllerSettingsInput | undefined, fromEnv: string | undefined): ControllerSettings {
  let configured: ControllerSettingsInput = {};
  if (fromEnv) {
    try {
      configured = JSON.parse(fromEnv) as ControllerSettingsInput;
    } catch {
      throw new ValidationError([{ path: CONTROLLER_ENV, message: 'is not JSON (the step driver writes it from controller: of canarykit.yaml)' }], 'invalid CanaryApp settings');
    }
  }
  const { merged, conflicts } = mergeControllerSettings(configured, prop ?? {});
  const problems = [
    ...conflicts.map((k) => ({ path: `controller.${k}`, message: `${JSON.stringify(prop?.[k])} contradicts controller.${k}: ${JSON.stringify(configured[k])} of canarykit.yaml (passed by the step driver); drop the prop or change canarykit.yaml` })),
    ...controllerSettingProblems(merged, 'controller.'),
    // canarykit.yaml's meshProvider (in the environment) is compile's; a construct names its provider.
    ...(prop?.meshProvider !== undefined ? [{ path: 'controller.meshProvider', message: 'is only read by canarykit compile (a Canary without spec.provider); a Canary construct always names its provider with Provider.<name>()' }] : []),
  ];
  if (problems.length > 0) throw new ValidationError(problems, 'invalid CanaryApp settings');
  return controllerSettings(merged);
}

export interface WriteOptions {
  /**
   * `folders` are some of the output's folders (compile's `only`): they are replaced, every other
   * folder and the marker stay as they are. Needs an existing output.
   */
  readonly partial?: boolean;
  /**
   * Folders of the existing output that stay exactly as they are, as if they were among `folders`
   * with their current files (compile's record found them up to date). Not with `partial`.
   */
  readonly keep?: readonly string[];
}

/**
 * Writes the output folder. A new one is written to a fresh sibling directory and swapped in; an
 * existing one is updated folder by folder, each changed folder swapped in whole and unchanged
 * files never rewritten (output-update.ts). Either way a crash never leaves a half-written folder.
 * Refuses (before writing) a folder canarykit did not write (see output-dir.ts); a failed write
 * removes its staging folder and leaves the previous output as it was.
 */
export function writeFolders(outdir: string, folders: readonly OutputFolder[], opts: OutputDirOptions & WriteOptions = {}): void {
  assertWritableOutputDir(outdir, opts);
  const bad = folders.flatMap((f) => [f.dir, ...[...f.files.keys()].map((n) => `${f.dir}/${n}`)]).filter((rel) => !isSafeRelativePath(rel));
  if (bad.length > 0) throw new ValidationError(bad.map((rel) => ({ path: rel, message: 'is not a plain relative path inside the output folder (no "..", no absolute path, segments of at most 255 bytes)' })), 'synth failed, nothing was written');
  const abs = path.resolve(opts.cwd ?? process.cwd(), outdir);
  // assertWritableOutputDir made sure an existing folder is a directory canarykit wrote.
  const keep = opts.keep ?? [];
  if (fs.existsSync(abs) && foldersAreDisjoint(folders, keep)) {
    updateOutput(abs, folders, { partial: opts.partial, keep });
    return;
  }
  // Kept folders live in the existing output only (compile keeps none without one).
  if (keep.length > 0) throw new Error(`writeFolders: kept folders need the existing output ${abs}`);
  if (opts.partial) throw new Error(`writeFolders: a partial write needs the existing output ${abs}`);
  const staging = scratchFolder(abs, 'staging');
  const old = scratchFolder(abs, 'old');
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    fs.mkdirSync(staging, { recursive: true });
    fs.writeFileSync(path.join(staging, OUTPUT_MARKER), OUTPUT_MARKER_TEXT);
    for (const folder of folders) {
      const dir = path.join(staging, folder.dir);
      fs.mkdirSync(dir, { recursive: true });
      for (const [name, content] of folder.files) fs.writeFileSync(path.join(dir, name), content);
    }
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  const hadOld = fs.existsSync(abs);
  if (hadOld) fs.renameSync(abs, old);
  fs.renameSync(staging, abs);
  if (hadOld) fs.rmSync(old, { recursive: true, force: true });
}
