import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAGGER_FIXTURES, cliIn, snapshotTree, tempDir } from './support';

// A generated bad-input suite (issue 7): hostile compile inputs, canarykit.yaml and state files,
// varied over names, paths, sizes, aliases and types. Each case runs the real CLI in a real
// repository and checks the exit code (2), the message (file/field and the fix), that it is never
// an "internal error", and that nothing changed anywhere under the test's root folder (the
// repository, .git included, and an `outside/` folder next to it) — byte for byte.

const CANARY = fs.readFileSync(path.join(FLAGGER_FIXTURES, 'istio', 'canary.yaml'), 'utf8');
const DEPLOYMENT = fs.readFileSync(path.join(FLAGGER_FIXTURES, 'istio', 'deployment.yaml'), 'utf8');
const HPA = fs.readFileSync(path.join(FLAGGER_FIXTURES, 'istio', 'hpa.yaml'), 'utf8');

/** The podinfo Canary with its metadata.name / namespace replaced (as YAML scalars, quoted). */
function canaryNamed(name: string, namespace = 'test'): string {
  return CANARY.replace(/^metadata:\n  name: podinfo\n  namespace: test\n/m, `metadata:\n  name: ${JSON.stringify(name)}\n  namespace: ${JSON.stringify(namespace)}\n`);
}

function withTarget(name: string): Record<string, string> {
  return {
    'apps/canary.yaml': CANARY.replace('kind: Deployment\n    name: podinfo', `kind: Deployment\n    name: ${name}`),
    'apps/deployment.yaml': DEPLOYMENT.replace(/^  name: podinfo$/m, `  name: ${name}`),
    'apps/hpa.yaml': HPA.replace('kind: Deployment\n    name: podinfo', `kind: Deployment\n    name: ${name}`),
  };
}

/** Billion laughs: nine levels of ten aliases each. */
function aliasBomb(): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: bomb}', 'x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++) lines.push(`x${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  lines.push('data: {k: v}');
  return `${lines.join('\n')}\n`;
}

interface Case {
  /** What the case varies. */
  readonly name: string;
  /** Files to write into the repository before the command (relative path -> text, or a builder). */
  readonly files?: Record<string, string>;
  /** Extra preparation (symlinks, folders where files are expected). */
  readonly prepare?: (repo: string, root: string) => void;
  readonly args: string[];
  /** Every text must appear in stderr. */
  readonly expect: (string | RegExp)[];
}

const COMPILE = ['compile', '-f', 'apps', '-o', 'dist', '--state', 'state'];

/** compile inputs: names (canary, namespace, target), types, sizes, aliases, Secrets. */
const compileCases: Case[] = [
  ...(['../..', '..', '.', 'a/b', 'pödinfo', 'PodInfo', 'a'.repeat(64), 'a'.repeat(300), 'podinfo-', '-podinfo', 'pod_info', 'pod.info'] as const).map((n): Case => ({
    name: `canary name ${JSON.stringify(n.length > 40 ? `${n.slice(0, 10)}...(${n.length})` : n)}`,
    files: { 'apps/canary.yaml': canaryNamed(n), 'apps/deployment.yaml': DEPLOYMENT, 'apps/hpa.yaml': HPA },
    args: COMPILE,
    expect: ['apps/canary.yaml#1', 'metadata.name: canary name must be a DNS-1123 label', 'nothing was written'],
  })),
  ...(['bad1"} or vector(100) or {a="', '../..', 'kube_system', 'Test', 'a'.repeat(64), 'x/y'] as const).map((ns): Case => ({
    name: `namespace ${JSON.stringify(ns.length > 40 ? `${ns.slice(0, 10)}...(${ns.length})` : ns)}`,
    files: {
      'apps/canary.yaml': canaryNamed('podinfo', ns),
      'apps/deployment.yaml': DEPLOYMENT.replace(/namespace: test/, `namespace: ${JSON.stringify(ns)}`),
      'apps/hpa.yaml': HPA.replace(/namespace: test/, `namespace: ${JSON.stringify(ns)}`),
    },
    args: COMPILE,
    expect: ['apps/canary.yaml#1', 'metadata.namespace: namespace must be a DNS-1123 label', 'apps/deployment.yaml#1', 'nothing was written'],
  })),
  {
    name: 'target name too long for its Service (-primary/-canary)',
    files: withTarget('p'.repeat(60)),
    args: COMPILE,
    expect: ['is the apex Service name by default', 'at most 55 characters', 'set service.name'],
  },
  {
    name: 'target name of 250 characters',
    files: withTarget('p'.repeat(250)),
    args: COMPILE,
    expect: ['metadata.name must be a DNS-1123 subdomain', 'at most 245 characters'],
  },
  {
    name: 'selector label value too long for -primary',
    files: { 'apps/canary.yaml': CANARY, 'apps/deployment.yaml': DEPLOYMENT.replace(/app: podinfo/g, `app: ${'v'.repeat(60)}`), 'apps/hpa.yaml': HPA },
    args: COMPILE,
    expect: ['spec.selector.matchLabels.app must be a label value', 'at most 55 characters'],
  },
  {
    name: 'metadata.name of another type (a number)',
    files: { 'apps/canary.yaml': CANARY.replace(/^  name: podinfo$/m, '  name: 12'), 'apps/deployment.yaml': DEPLOYMENT },
    args: COMPILE,
    expect: ['apps/canary.yaml#1'],
  },
  {
    name: 'a Secret with data in the inputs',
    files: { 'apps/canary.yaml': CANARY, 'apps/deployment.yaml': DEPLOYMENT, 'apps/hpa.yaml': HPA, 'apps/secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: test\ndata:\n  password: aHVudGVyMg==\n' },
    args: COMPILE,
    expect: ['apps/secret.yaml#1 Secret test/db', 'never copied into the output folder', 'Sealed Secrets'],
  },
  {
    name: 'YAML alias bomb',
    files: { 'apps/bomb.yaml': aliasBomb() },
    args: COMPILE,
    expect: ['apps/bomb.yaml#1', 'aliases may expand to at most 100'],
  },
  {
    name: 'nesting 5,000 levels deep',
    files: { 'apps/deep.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}\n` },
    args: COMPILE,
    expect: ['apps/deep.yaml#1', 'more than 64 levels deep'],
  },
  {
    name: '200,000 YAML documents',
    files: { 'apps/many.yaml': '--- {}\n'.repeat(200_000) },
    args: COMPILE,
    expect: ['apps/many.yaml', 'more than 10000 YAML documents'],
  },
  {
    name: 'a 50 MB input file',
    prepare: (repo) => {
      fs.mkdirSync(path.join(repo, 'apps'), { recursive: true });
      const fd = fs.openSync(path.join(repo, 'apps', 'huge.yaml'), 'w');
      const chunk = Buffer.from(`# ${'x'.repeat(1022)}\n`);
      for (let i = 0; i < 50 * 1024; i++) fs.writeSync(fd, chunk);
      fs.closeSync(fd);
    },
    args: COMPILE,
    expect: ['apps/huge.yaml', 'is 50 MiB, more than the 8 MiB'],
  },
  {
    name: 'webhook timeout 1e12s',
    files: { 'apps/canary.yaml': CANARY.replace('timeout: 30s', 'timeout: 1000000000000s'), 'apps/deployment.yaml': DEPLOYMENT, 'apps/hpa.yaml': HPA },
    args: COMPILE,
    expect: ['webhooks[0].timeout', 'at most 3600s'],
  },
  {
    name: 'webhook retries 1e9',
    files: { 'apps/canary.yaml': CANARY.replace('timeout: 30s', 'timeout: 30s\n        retries: 1000000000'), 'apps/deployment.yaml': DEPLOYMENT, 'apps/hpa.yaml': HPA },
    args: COMPILE,
    expect: ['webhooks[0].retries', 'from 0 to 20'],
  },
  {
    name: 'progressDeadlineSeconds of 30 years',
    files: { 'apps/canary.yaml': CANARY.replace('progressDeadlineSeconds: 120', 'progressDeadlineSeconds: 1000000000'), 'apps/deployment.yaml': DEPLOYMENT, 'apps/hpa.yaml': HPA },
    args: COMPILE,
    expect: ['progressDeadline', '7 days'],
  },
  {
    name: 'analysis interval of 190 million years',
    files: { 'apps/canary.yaml': CANARY.replace(/interval: 1m\n    threshold/, 'interval: 99999999999999m\n    threshold'), 'apps/deployment.yaml': DEPLOYMENT, 'apps/hpa.yaml': HPA },
    args: COMPILE,
    expect: ['spec.analysis.interval', 'from 10s to 86400s'],
  },
];

/** compile -o: folders it did not write. */
const outdirCases: Case[] = [
  { name: '-o . (the working directory, a git work tree)', args: ['compile', '-f', 'apps', '-o', '.'], expect: ['is the working directory'] },
  { name: '-o .. (a parent of the working directory)', args: ['compile', '-f', 'apps', '-o', '..'], expect: ['holds the working directory'] },
  { name: '-o apps (the input)', args: ['compile', '-f', 'apps', '-o', 'apps'], expect: ['holds the input apps'] },
  { name: '-o apps/out (inside the input)', args: ['compile', '-f', 'apps', '-o', 'apps/out'], expect: ['is inside the input apps'] },
  { name: '-o a regular file', args: ['compile', '-f', 'apps', '-o', 'README.md'], expect: ['is a file, not a folder'] },
  { name: '-o ../outside (a folder canarykit did not write)', args: ['compile', '-f', 'apps', '-o', '../outside'], expect: ['holds files canarykit did not write'] },
  {
    name: '-o a git work tree root elsewhere',
    prepare: (_repo, root) => execFileSync('git', ['init', '-q', path.join(root, 'outside')]),
    args: ['compile', '-f', 'apps', '-o', '../outside'],
    expect: ['is the root of a git work tree'],
  },
  {
    name: '-o a symlink to a folder outside',
    prepare: (repo, root) => fs.symlinkSync(path.join(root, 'outside'), path.join(repo, 'linked')),
    args: ['compile', '-f', 'apps', '-o', 'linked'],
    expect: ['is a symbolic link'],
  },
];

/** canarykit.yaml read by `status` (and every driver command). */
const configCases: Case[] = [
  ...([
    ['outdir: ../outside', 'outdir', 'must be a folder inside the repository'],
    ['outdir: /tmp/elsewhere', 'outdir', 'must be a folder inside the repository'],
    ['outdir: .', 'outdir', 'must be a folder inside the repository'],
    ['stateDir: .git/state', 'stateDir', 'must be a folder inside the repository'],
    ['stateDir: dist/state', 'stateDir', 'must not be or lie inside outdir'],
    ['stateDir: dist', 'stateDir', 'must not be or lie inside outdir'],
    ['outdir: 12', 'outdir', 'must be string'],
    ['prometheus:\n  timeoutSeconds: 1e12', 'prometheus/timeoutSeconds', 'must be <= 300'],
    ['prometheus: [a]', 'prometheus', 'must be object'],
    ['git:\n  maxAttempts: 1e9', 'git/maxAttempts', 'must be <= 20'],
  ] as const).map(([text, field, message]): Case => ({
    name: `canarykit.yaml ${text.replace(/\n\s*/g, ' ')}`,
    files: { 'canarykit.yaml': `${text}\n` },
    args: ['status'],
    expect: [`canarykit.yaml#/${field}`, message],
  })),
  { name: 'canarykit.yaml alias bomb', files: { 'canarykit.yaml': aliasBomb().replace(/^(apiVersion|kind|metadata|data).*\n/gm, '') }, args: ['status'], expect: ['canarykit.yaml', 'YAML aliases'] },
  { name: 'canarykit.yaml nested 1,000 deep', files: { 'canarykit.yaml': `synth: ${'['.repeat(1000)}${']'.repeat(1000)}\n` }, args: ['status'], expect: ['canarykit.yaml', 'more than 64 levels deep'] },
  // Deep enough that the yaml parser's own recursion overflows before canarykit's depth check runs.
  { name: 'canarykit.yaml nested 100,000 deep (parser stack overflow)', files: { 'canarykit.yaml': `synth: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n` }, args: ['status'], expect: ['canarykit.yaml', 'more than 64 levels deep'] },
  { name: 'canarykit.yaml is a folder', prepare: (repo) => fs.mkdirSync(path.join(repo, 'canarykit.yaml')), args: ['status'], expect: ['canarykit.yaml', 'is not a regular file (a folder)'] },
  { name: 'canarykit.yaml of 9 MiB', files: { 'canarykit.yaml': `# ${'x'.repeat(9 * 1024 * 1024)}\n` }, args: ['status'], expect: ['canarykit.yaml', 'more than the 8 MiB'] },
  {
    name: 'canarykit.yaml outdir through a symlink leaving the repository',
    files: { 'canarykit.yaml': 'outdir: out\n' },
    prepare: (repo, root) => fs.symlinkSync(path.join(root, 'outside'), path.join(repo, 'out')),
    args: ['status'],
    expect: ['canarykit.yaml#/outdir', 'leads out of the repository through a symbolic link'],
  },
];

const STATE = 'state/test/podinfo.json';
const PLAN = 'dist/test/podinfo/canary.plan.json';

/** State files and plans, read by `status` and `plan`; names typed on the command line. */
const stateCases: Case[] = [
  { name: 'state file is a folder', prepare: (repo) => fs.mkdirSync(path.join(repo, STATE), { recursive: true }), args: ['status'], expect: [STATE, 'is not a regular file (a folder)'] },
  { name: 'state file is not JSON', files: { [STATE]: '{"phase": ' }, args: ['status'], expect: [STATE, 'not valid JSON'] },
  { name: 'state file of 9 MiB', files: { [STATE]: `"${'x'.repeat(9 * 1024 * 1024)}"` }, args: ['status'], expect: [STATE, 'more than the 8 MiB'] },
  { name: 'state file nested 100,000 deep', files: { [STATE]: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }, args: ['status'], expect: [STATE, 'more than 64 levels deep'] },
  { name: 'state file of the wrong type', files: { [STATE]: '[1, 2]' }, args: ['status'], expect: [STATE] },
  {
    name: 'state folder is a symlink leaving the repository',
    prepare: (repo, root) => {
      fs.rmSync(path.join(repo, 'state', 'test'), { recursive: true, force: true });
      fs.mkdirSync(path.join(repo, 'state'), { recursive: true });
      fs.symlinkSync(path.join(root, 'outside'), path.join(repo, 'state', 'test'));
    },
    args: ['status'],
    expect: [PLAN, 'leads out of the repository through a symbolic link'],
  },
  {
    name: 'plan naming a state file outside the repository',
    prepare: (repo) => editJson(path.join(repo, PLAN), (p) => ({ ...p, stateFile: '../outside/podinfo.json' })),
    args: ['status'],
    expect: [PLAN, 'stateFile must be <stateDir>/test/podinfo.json inside the repository'],
  },
  {
    name: 'plan with a namespace that is a path',
    prepare: (repo) => editJson(path.join(repo, PLAN), (p) => ({ ...p, namespace: '../..' })),
    args: ['status'],
    expect: [PLAN, 'namespace must be a DNS-1123 label'],
  },
  ...(['test/pödinfo', 'test/../..', '../x/y', 'test/podinfo/x', 'test/', 'bad1"} or vector(100) or {a="/podinfo'] as const).flatMap((id) =>
    (['rollback', 'promote', 'plan'] as const).map((cmd): Case => ({
      name: `${cmd} ${JSON.stringify(id)}`,
      args: [cmd, id],
      expect: ['expected NAMESPACE/NAME'],
    })),
  ),
];

function editJson(file: string, edit: (v: Record<string, unknown>) => Record<string, unknown>): void {
  fs.writeFileSync(file, `${JSON.stringify(edit(JSON.parse(fs.readFileSync(file, 'utf8'))), null, 2)}\n`);
}

let template: string;

/** One repository per case: apps/ (the Istio podinfo fixture), dist/ compiled from it, a commit; `outside/` next to it. */
function freshRoot(): { root: string; repo: string } {
  const root = tempDir();
  fs.cpSync(template, root, { recursive: true });
  return { root, repo: path.join(root, 'repo') };
}

beforeAll(async () => {
  template = tempDir('canarykit-hostile-template-');
  const repo = path.join(template, 'repo');
  fs.mkdirSync(path.join(template, 'outside'), { recursive: true });
  fs.writeFileSync(path.join(template, 'outside', 'precious.txt'), 'not canarykit output\n');
  fs.cpSync(path.join(FLAGGER_FIXTURES, 'istio'), path.join(repo, 'apps'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'README.md'), 'a repository\n');
  const compiled = await cliIn(repo, COMPILE);
  expect(compiled.code, compiled.err).toBe(0);
  fs.mkdirSync(path.join(repo, 'state', 'test'), { recursive: true });
  const git = (...args: string[]): void => {
    execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'fixture');
});

afterAll(() => fs.rmSync(template, { recursive: true, force: true }));

describe.each([
  ['compile inputs', compileCases],
  ['compile -o', outdirCases],
  ['canarykit.yaml', configCases],
  ['state files, plans and canary names', stateCases],
])('bad input (%s): exit 2, a message naming the file, nothing written', (_group, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { root, repo } = freshRoot();
    try {
      // A case's input files replace the fixture's inputs, so each case isolates one problem.
      if (Object.keys(c.files ?? {}).some((rel) => rel.startsWith('apps/'))) fs.rmSync(path.join(repo, 'apps'), { recursive: true, force: true });
      for (const [rel, text] of Object.entries(c.files ?? {})) {
        fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
        fs.writeFileSync(path.join(repo, rel), text);
      }
      c.prepare?.(repo, root);
      const before = snapshotTree(root);
      const r = await cliIn(repo, c.args);
      expect(r.err).not.toMatch(/internal error/);
      expect(r.code, r.err).toBe(2);
      for (const e of c.expect) expect(r.err, r.err).toMatch(typeof e === 'string' ? new RegExp(e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : e);
      expect(snapshotTree(root)).toEqual(before);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
