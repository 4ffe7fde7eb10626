import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { loadConfig } from '../src/adapters/config';
import { packageVersion } from '../src/version';

/*
 * What an installed CLI needs from a repository that has only YAML: `--version`, `init` writing a
 * synth line for the installed `canarykit` (never `npx canarykit`, which asks the registry), and
 * `compile` writing where canarykit.yaml says the driver reads.
 */

const ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'flagger', 'istio');
const dirs: string[] = [];
const cwd = process.cwd();
afterEach(() => {
  process.chdir(cwd);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function run(args: string[], dir?: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  if (dir) process.chdir(dir);
  try {
    const code = await main(['node', 'canarykit', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.chdir(cwd);
  }
}

function repo(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-cli-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, '.git'));
  fs.mkdirSync(path.join(dir, 'apps'));
  for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, 'apps', f));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

const tree = (dir: string): string[] => (fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).sort() : []);

describe('canarykit --version', () => {
  it('prints the version of package.json and exits 0', async () => {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    expect(packageVersion()).toBe(version);
    for (const flag of ['--version', '-V']) expect(await run([flag])).toEqual({ code: 0, out: version, err: '' });
  });
});

describe('canarykit init: the synth line', () => {
  it('uses the installed CLI in a YAML-only repository, and the result loads', async () => {
    const dir = repo();
    expect(await run(['init', '--repo', dir])).toMatchObject({ code: 0, out: expect.stringContaining('(synth: canarykit compile -f apps/)') });
    const text = fs.readFileSync(path.join(dir, 'canarykit.yaml'), 'utf8');
    expect(text).toMatch(/^synth: canarykit compile -f apps\/$/m);
    expect(text).not.toMatch(/^[^#]*npx canarykit/m);
    expect(loadConfig(dir).synth).toBe('canarykit compile -f apps/');
  });

  it("uses cdk8s.yaml's app in a cdk8s project, and --synth when given", async () => {
    const cdk8s = repo({ 'cdk8s.yaml': 'language: typescript\napp: npx ts-node main.ts\noutput: dist\n' });
    await run(['init', '--repo', cdk8s]);
    expect(loadConfig(cdk8s).synth).toBe('npx ts-node main.ts');
    const custom = repo();
    await run(['init', '--repo', custom, '--synth', 'make manifests']);
    expect(loadConfig(custom).synth).toBe('make manifests');
  });
});

describe('canarykit compile: folders from canarykit.yaml', () => {
  const CONFIG = 'synth: canarykit compile -f apps/\noutdir: manifests\nstateDir: stages\n';

  it('writes outdir and records stateDir of canarykit.yaml when no flag is given', async () => {
    const dir = repo({ 'canarykit.yaml': CONFIG });
    const r = await run(['compile', '-f', 'apps/'], dir);
    expect(r).toMatchObject({ code: 0, out: expect.stringContaining('under manifests/') });
    const plan = JSON.parse(fs.readFileSync(path.join(dir, 'manifests', 'test', 'podinfo', 'canary.plan.json'), 'utf8'));
    expect(plan.stateFile).toBe('stages/test/podinfo.json');
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'state'))).toBe(false);
  });

  it('without canarykit.yaml: the flags, else dist/ and state/', async () => {
    const dir = repo();
    expect((await run(['compile', '-f', 'apps/'], dir)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'dist', 'test', 'podinfo', 'canary.plan.json'), 'utf8')).stateFile).toBe('state/test/podinfo.json');
    expect((await run(['compile', '-f', 'apps/', '-o', 'out', '--state', 'st'], dir)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'out', 'test', 'podinfo', 'canary.plan.json'), 'utf8')).stateFile).toBe('st/test/podinfo.json');
  });

  it.each([
    [['--state', 'state'], /--state state contradicts stateDir: stages in canarykit.yaml; drop --state/],
    [['-o', 'dist'], /-o dist contradicts outdir: manifests in canarykit.yaml; drop -o/],
  ])('a flag contradicting canarykit.yaml (%j) exits 2 and writes nothing', async (flags, message) => {
    const dir = repo({ 'canarykit.yaml': CONFIG });
    const before = tree(dir);
    const r = await run(['compile', '-f', 'apps/', ...flags], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(tree(dir)).toEqual(before);
  });

  it('a flag equal to canarykit.yaml is fine', async () => {
    const dir = repo({ 'canarykit.yaml': CONFIG });
    expect((await run(['compile', '-f', 'apps/', '-o', './manifests', '--state', 'stages'], dir)).code).toBe(0);
  });
});
