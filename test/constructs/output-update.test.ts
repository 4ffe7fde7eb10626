import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFolders } from '../../src/constructs/canary-app';
import { OutputFolder } from '../../src/constructs/output';
import { OUTPUT_MARKER } from '../../src/constructs/output-dir';
import { updateOutput } from '../../src/constructs/output-update';
import { removeTempDirs, snapshotDir, tempDir } from '../support/construct-fixtures';

/*
 * writeFolders on an existing output (issue 14): only files whose content changed are written,
 * only gone files are deleted, the result is byte for byte what a fresh write gives, and a write
 * that fails midway leaves the previous output exactly as it was.
 */

afterAll(removeTempDirs);

function folder(dir: string, files: Record<string, string>): OutputFolder {
  return { dir, files: new Map(Object.entries(files)) };
}

/** A small fleet: `n` canaries, canary `i` at weight `weights[i] ?? 0`. */
function fleet(n: number, weights: Record<number, number> = {}): OutputFolder[] {
  return Array.from({ length: n }, (_, i) =>
    folder(`ns${i % 3}/app${i}`, {
      'deployment-app.yaml': `kind: Deployment\nname: app${i}\n`,
      'virtualservice-app.yaml': `kind: VirtualService\nweight: ${weights[i] ?? 0}\n`,
      'kustomization.yaml': 'resources: [deployment-app.yaml, virtualservice-app.yaml]\n',
    }),
  );
}

const inode = (file: string): number => fs.statSync(file).ino;

function fresh(folders: OutputFolder[]): Map<string, Buffer> {
  const out = path.join(tempDir('canarykit-fresh-'), 'dist');
  writeFolders(out, folders);
  return snapshotDir(out);
}

function expectSame(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [file, bytes] of expected) expect(actual.get(file)!.equals(bytes), file).toBe(true);
}

describe('writeFolders updates an existing output in place (src/constructs/output-update.ts)', () => {
  it('rewrites only the changed folder, keeps every unchanged file (same inode and mtime), and matches a fresh write', () => {
    const out = path.join(tempDir('canarykit-update-'), 'dist');
    writeFolders(out, fleet(6));
    const unchangedFile = path.join(out, 'ns0/app0/virtualservice-app.yaml');
    const sibling = path.join(out, 'ns1/app1/deployment-app.yaml');
    const before = { ino: inode(unchangedFile), mtime: fs.statSync(unchangedFile).mtimeMs, sibling: inode(sibling), marker: inode(path.join(out, OUTPUT_MARKER)) };

    const next = fleet(6, { 1: 10 });
    const r = updateOutput(out, next);

    expect(r).toEqual({ replaced: ['ns1/app1'], removed: [], written: 1 });
    expect(inode(unchangedFile)).toBe(before.ino);
    expect(fs.statSync(unchangedFile).mtimeMs).toBe(before.mtime);
    // In the replaced folder too, the file that did not change is the same file (a hard link).
    expect(inode(sibling)).toBe(before.sibling);
    expect(inode(path.join(out, OUTPUT_MARKER))).toBe(before.marker);
    expect(fs.readFileSync(path.join(out, 'ns1/app1/virtualservice-app.yaml'), 'utf8')).toContain('weight: 10');
    expectSame(snapshotDir(out), fresh(next));
    // No scratch folder is left next to the output.
    expect(fs.readdirSync(path.dirname(out))).toEqual(['dist']);
  });

  it('deletes gone files and folders (a removed canary, its empty namespace, stray files) and adds new ones', () => {
    const out = path.join(tempDir('canarykit-update-'), 'dist');
    writeFolders(out, [...fleet(3), folder('gone/app', { 'a.yaml': 'a\n' })]);
    fs.writeFileSync(path.join(out, 'stray.yaml'), 'x\n');
    fs.writeFileSync(path.join(out, 'ns0', 'stray.yaml'), 'x\n');
    fs.mkdirSync(path.join(out, 'ns1/app1/old-sub'), { recursive: true });
    fs.writeFileSync(path.join(out, 'ns1/app1/old-sub/x.yaml'), 'x\n');
    const next = [...fleet(3).map((f) => (f.dir === 'ns2/app2' ? folder(f.dir, { 'kustomization.yaml': 'resources: []\n' }) : f)), folder('new/app', { 'b.yaml': 'b\n' })];

    const r = updateOutput(out, next);

    expect(r.replaced).toEqual(['new/app', 'ns1/app1', 'ns2/app2']);
    expect(r.removed).toEqual(['gone/app']);
    expect(fs.existsSync(path.join(out, 'gone'))).toBe(false);
    expectSame(snapshotDir(out), fresh(next));
  });

  it('a second write of the same folders writes nothing', () => {
    const out = path.join(tempDir('canarykit-update-'), 'dist');
    writeFolders(out, fleet(4));
    expect(updateOutput(out, fleet(4))).toEqual({ replaced: [], removed: [], written: 0 });
  });

  it('a write that fails midway leaves the previous output byte for byte, and no staging folder', () => {
    const out = path.join(tempDir('canarykit-update-'), 'dist');
    writeFolders(out, fleet(4));
    const before = snapshotDir(out);
    // A real failure after other folders were staged: a path longer than PATH_MAX (ENAMETOOLONG).
    const deep = Array.from({ length: 40 }, (_, i) => `${'d'.repeat(120)}${i}`).join('/');
    const next = [...fleet(4, { 0: 50, 3: 20 }), folder(`zz/${deep}`, { 'a.yaml': 'a\n' })];

    expect(() => writeFolders(out, next)).toThrow(/ENAMETOOLONG/);

    expectSame(snapshotDir(out), before);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['dist']);
  });

  it('nested folders (a chart folder holding a canary folder) fall back to replacing the output whole, same bytes', () => {
    const out = path.join(tempDir('canarykit-update-'), 'dist');
    writeFolders(out, fleet(2));
    const next = [folder('ns0', { 'configmap-x.yaml': 'x\n' }), ...fleet(2)];
    writeFolders(out, next);
    expectSame(snapshotDir(out), fresh(next));
  });
});
