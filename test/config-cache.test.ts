import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { initConfigText, loadBootstrapConfig, loadConfig, parseConfig } from '../src/adapters/config';
import { jsonSafe } from '../src/adapters/config-cache';

/*
 * canarykit.yaml parsed once per text (issue 14, adapters/config-cache.ts): the second load of the
 * same text comes from `.git/canarykit/config-cache.json` and must equal the parse, key for key; a
 * text that fails is never cached, so its errors stay the parser's.
 */

const ROOT = join(__dirname, '..');
let dir: string;
const cacheFile = (): string => join(dir, '.git', 'canarykit', 'config-cache.json');
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'canarykit-config-cache-'));
  mkdirSync(join(dir, '.git'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TEXTS = [
  initConfigText('canarykit compile -f apps/'),
  'synth: npx tsx src/main.ts\noutdir: out/manifests\nstateDir: stages\nprometheus:\n  address: http://prometheus:9090\n  timeoutSeconds: 7\n',
  'synth: "true"\ncontroller:\n  selectorLabels: app,name\n  meshProvider: linkerd\n  enableConfigTracking: false\ngit:\n  committer: { name: bot, email: bot@example.test }\n  maxAttempts: 5\n',
  'synth: make\ngit:\n  mode: pull-request\n  pullRequest:\n    provider: gitlab\n    repository: group/project\n',
  'synth: &s make\nprometheus: { address: "http://p:9090" }\n# comment only\n',
];

it('the second load of a text comes from the cache and equals the parse, key for key', () => {
  for (const text of TEXTS) {
    writeFileSync(join(dir, 'canarykit.yaml'), text);
    rmSync(cacheFile(), { force: true });
    const parsed = parseConfig(text, 'canarykit.yaml');
    const first = loadConfig(dir);
    expect(existsSync(cacheFile())).toBe(true);
    const second = loadConfig(dir);
    const boot = loadBootstrapConfig(dir);
    for (const v of [first, second, boot]) {
      expect(v).toStrictEqual(parsed);
      expect(JSON.stringify(v)).toBe(JSON.stringify(parsed));
    }
    expect(jsonSafe(parsed)).toBe(true);
  }
  // The cache answers: an entry changed in it is what the next load returns.
  const cache = JSON.parse(readFileSync(cacheFile(), 'utf8'));
  cache.entries[0][1].synth = 'from the cache';
  writeFileSync(cacheFile(), JSON.stringify(cache));
  expect(loadConfig(dir).synth).toBe('from the cache');
  // Another text is another key.
  writeFileSync(join(dir, 'canarykit.yaml'), 'synth: other\n');
  expect(loadConfig(dir).synth).toBe('other');
});

it('a text that fails is parsed (and fails) every time, and is never cached', () => {
  for (const text of ['synth: [unclosed\n', 'outdir: ../out\n', 'git:\n  maxAttempts: 0\n', 'a: &a [*a]\n']) {
    writeFileSync(join(dir, 'canarykit.yaml'), text);
    let error = '';
    try {
      parseConfig(text, 'canarykit.yaml');
    } catch (e) {
      error = String(e);
    }
    expect(error).not.toBe('');
    expect(() => loadConfig(dir)).toThrow(error.replace(/^\w+: /, ''));
    expect(() => loadConfig(dir)).toThrow(error.replace(/^\w+: /, ''));
    expect(existsSync(cacheFile())).toBe(false);
  }
});

it('a broken cache file is ignored and replaced; no .git, no cache', () => {
  writeFileSync(join(dir, 'canarykit.yaml'), TEXTS[1]);
  const parsed = parseConfig(TEXTS[1], 'canarykit.yaml');
  mkdirSync(join(dir, '.git', 'canarykit'));
  for (const junk of ['{nope', 'null', '{"version":2,"entries":[]}', '{"version":1,"entries":[["k"],[1,2],["x",null]]}']) {
    writeFileSync(cacheFile(), junk);
    expect(loadConfig(dir)).toStrictEqual(parsed);
    expect(loadConfig(dir)).toStrictEqual(parsed);
  }
  rmSync(join(dir, '.git'), { recursive: true });
  expect(loadConfig(dir)).toStrictEqual(parsed);
  expect(existsSync(join(dir, '.git'))).toBe(false);
});

it('jsonSafe refuses what JSON would change', () => {
  for (const v of [{ a: undefined }, [1, , 3], { n: -0 }, { n: Number.NaN }, { n: Infinity }, { d: new Date(0) }, { f: () => 1 }, Object.create({ x: 1 })]) expect(jsonSafe(v)).toBe(false);
  for (const v of [{}, [], { a: [1, 'x', null, true, { b: 0.5 }] }]) expect(jsonSafe(v)).toBe(true);
});

it('a built CLI loads the config of a cached text without loading the yaml package', () => {
  if (!existsSync(join(ROOT, 'lib', 'src', 'adapters', 'config.js'))) throw new Error('build first (npm run build): this test runs the built modules');
  writeFileSync(join(dir, 'canarykit.yaml'), TEXTS[2]);
  const probe = `const c=require(${JSON.stringify(join(ROOT, 'lib', 'src', 'adapters', 'config.js'))});require(${JSON.stringify(join(ROOT, 'lib', 'src', 'cli.js'))});const cfg=c.loadConfig(process.argv[1]);console.log(JSON.stringify({synth:cfg.synth,yaml:Object.keys(require.cache).some((k)=>/[\\\\/]node_modules[\\\\/]yaml[\\\\/]/.test(k))}))`;
  const run = (): { synth: string; yaml: boolean } => JSON.parse(execFileSync(process.execPath, ['-e', probe, dir], { encoding: 'utf8' }));
  expect(run()).toEqual({ synth: 'true', yaml: true });
  expect(run()).toEqual({ synth: 'true', yaml: false });
});

it('the outdir symlink check runs on a cached text too, and a refused text is not cached', () => {
  writeFileSync(join(dir, 'canarykit.yaml'), 'outdir: out\n');
  const outside = mkdtempSync(join(tmpdir(), 'canarykit-config-outside-'));
  try {
    symlinkSync(outside, join(dir, 'out'));
    expect(() => loadConfig(dir)).toThrow(/outdir.*out leads out of the repository through a symbolic link/);
    expect(existsSync(cacheFile())).toBe(false);
    rmSync(join(dir, 'out'));
    expect(loadConfig(dir).outdir).toBe('out');
    expect(existsSync(cacheFile())).toBe(true);
    symlinkSync(outside, join(dir, 'out'));
    expect(() => loadConfig(dir)).toThrow(/leads out of the repository through a symbolic link/);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});
