import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildExampleApp } from '../../src/main';
import { removeTempDirs, snapshotDir, tempDir } from '../support/construct-fixtures';
import { localeSensitiveApp } from './support/determinism-apps';

afterAll(removeTempDirs);

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

function expectSameBytes(a: string, b: string): void {
  const left = snapshotDir(a);
  const right = snapshotDir(b);
  expect([...right.keys()]).toEqual([...left.keys()]);
  for (const [file, bytes] of left) expect(right.get(file)!.equals(bytes), file).toBe(true);
}

describe('synth output is a pure function of the app and the state files', () => {
  it('two synths of the example app are byte-identical', () => {
    const root = tempDir('canarykit-determinism-');
    buildExampleApp(path.join(root, 'a')).synth();
    buildExampleApp(path.join(root, 'b')).synth();
    const files = snapshotDir(path.join(root, 'a'));
    expect([...files.keys()]).toContain(path.join('test', 'podinfo', 'virtualservice-podinfo.yaml'));
    expect([...files.keys()]).toContain(path.join('web', 'frontend', 'canary.plan.json'));
    expectSameBytes(path.join(root, 'a'), path.join(root, 'b'));
  });

  it('the committed example dist/ is what the example app and state/ synthesize today', () => {
    const root = tempDir('canarykit-determinism-');
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      buildExampleApp(path.join(root, 'fresh')).synth();
    } finally {
      process.chdir(cwd);
    }
    expectSameBytes(path.join(ROOT, 'dist'), path.join(root, 'fresh'));
  });

  it('another process with another time zone and locale writes the same bytes', async () => {
    const root = tempDir('canarykit-determinism-');
    buildExampleApp(path.join(root, 'example-here')).synth();
    localeSensitiveApp(path.join(root, 'fixture-here')).synth();

    const env = { ...process.env, TZ: 'Pacific/Kiritimati', LANG: 'da_DK.UTF-8', LC_ALL: 'da_DK.UTF-8', LANGUAGE: 'da' };
    await execFileAsync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support', 'synth-child.ts'), path.join(root, 'example-there'), path.join(root, 'fixture-there')], { cwd: ROOT, env });

    expectSameBytes(path.join(root, 'example-here'), path.join(root, 'example-there'));
    expectSameBytes(path.join(root, 'fixture-here'), path.join(root, 'fixture-there'));
    // The locale-sensitive names are in code-unit order in the plan, whatever LANG says.
    const plan = snapshotDir(path.join(root, 'fixture-there')).get(path.join('test', 'podinfo', 'canary.plan.json'))!.toString();
    expect(Object.keys(JSON.parse(plan).canary.configMaps)).toEqual(['aa-config', 'cm-10', 'cm.2', 'cm10', 'j-config', 'y-config', 'zz-config']);
  });
});
