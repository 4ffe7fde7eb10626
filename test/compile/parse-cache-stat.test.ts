import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadYamlInputs } from '../../src/compile/load-yaml';
import { fileParseCache } from '../../src/compile/parse-cache';
import { statOf } from '../../src/compile/file-stat';
import { removeTempDirs, tempDir } from '../support/construct-fixtures';

/*
 * The parse cache answers an unchanged input from its stat data without reading it (issue 14: at
 * a thousand canaries reading ~2,000 unchanged inputs to hash them was a tenth of a one-canary
 * tick's extra cost). A file is trusted on its stat data only when that data was recorded at
 * least 2 s after the file last changed (git's "racily clean" rule), and any change of inode,
 * size, mtime or ctime makes it read again.
 */

afterAll(removeTempDirs);

const CONFIGMAP = (v: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: stat }\ndata: { v: "${v}" }\n`;

/** A folder with apps/c.yaml (a ConfigMap whose data.v is `v`) and where its parse cache goes. */
function inputs(v: string): { dir: string; file: string; cacheFile: string } {
  const dir = tempDir('canarykit-parse-stat-');
  fs.mkdirSync(path.join(dir, 'apps'));
  const file = path.join(dir, 'apps', 'c.yaml');
  fs.writeFileSync(file, CONFIGMAP(v));
  return { dir, file, cacheFile: path.join(dir, 'cache.json') };
}

const values = (dir: string, cacheFile: string): unknown[] => loadYamlInputs(['apps'], dir, fileParseCache(cacheFile)).map((o) => o.json.data);

/** Rewrites the cache's recorded stat moment of `apps/c.yaml` to `shiftMs` from its recorded value. */
function shiftRecorded(cacheFile: string, shiftMs: number): void {
  const stored = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
  const entry = stored.files['apps/c.yaml'];
  const [id, at] = String(entry.stat).split('@');
  entry.stat = `${id}@${BigInt(at) + BigInt(shiftMs) * 1_000_000n}`;
  fs.writeFileSync(cacheFile, JSON.stringify(stored));
}

/** Replaces the cached documents of `apps/c.yaml`, so a test sees whether the cache or the file answered. */
function plantDocs(cacheFile: string, v: string): void {
  const stored = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
  stored.files['apps/c.yaml'].docs[0].json.data = { v };
  fs.writeFileSync(cacheFile, JSON.stringify(stored));
}

describe('parse cache: inputs answered from their stat data (parse-cache.ts getByStat)', () => {
  it('records each file with its stat data and size', () => {
    const { dir, file, cacheFile } = inputs('one');
    expect(values(dir, cacheFile)).toEqual([{ v: 'one' }]);
    const entry = JSON.parse(fs.readFileSync(cacheFile, 'utf8')).files['apps/c.yaml'];
    expect(entry.bytes).toBe(fs.statSync(file).size);
    expect(String(entry.stat).split('@')[0]).toBe(statOf(file)!.split('@')[0]);
  });

  it('answers a file unchanged since well before it was recorded without reading it', () => {
    const { dir, cacheFile } = inputs('one');
    values(dir, cacheFile);
    // Recorded 5 s after the file's last change: trusted. The planted documents prove the file was not read.
    shiftRecorded(cacheFile, 5_000);
    plantDocs(cacheFile, 'from-cache');
    expect(values(dir, cacheFile)).toEqual([{ v: 'from-cache' }]);
  });

  it('reads a racily clean file (recorded within 2 s of its last change) again, and trusts it once recorded later', () => {
    const { dir, cacheFile } = inputs('one');
    values(dir, cacheFile);
    shiftRecorded(cacheFile, -60_000); // recorded "before" the change: never trusted
    plantDocs(cacheFile, 'stale');
    // The text is read and hashed; it matches the cached hash, so the cached documents answer, and the stat is recorded anew.
    expect(values(dir, cacheFile)).toEqual([{ v: 'stale' }]);
    const recorded = JSON.parse(fs.readFileSync(cacheFile, 'utf8')).files['apps/c.yaml'].stat;
    expect(BigInt(String(recorded).split('@')[1])).toBeGreaterThan(BigInt(Date.now() - 10_000) * 1_000_000n);
  });

  it('reads a file again when it changed, even with the same size and a restored mtime (ctime moved)', () => {
    const { dir, file, cacheFile } = inputs('one');
    values(dir, cacheFile);
    shiftRecorded(cacheFile, 5_000);
    const before = fs.statSync(file);
    fs.writeFileSync(file, CONFIGMAP('two')); // same length as "one"
    fs.utimesSync(file, before.atime, before.mtime);
    expect(fs.statSync(file).size).toBe(before.size);
    expect(values(dir, cacheFile)).toEqual([{ v: 'two' }]);
  });

  it('reads a file again when it was replaced by another one (new inode)', () => {
    const { dir, file, cacheFile } = inputs('one');
    values(dir, cacheFile);
    shiftRecorded(cacheFile, 5_000);
    fs.writeFileSync(`${file}.new`, CONFIGMAP('new'));
    fs.renameSync(`${file}.new`, file);
    expect(values(dir, cacheFile)).toEqual([{ v: 'new' }]);
  });

  it('still counts a file answered from its stat data against the inputs size limit (its recorded size)', () => {
    const { dir, cacheFile } = inputs('one');
    values(dir, cacheFile);
    shiftRecorded(cacheFile, 5_000);
    const stored = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    stored.files['apps/c.yaml'].bytes = 10 ** 12;
    fs.writeFileSync(cacheFile, JSON.stringify(stored));
    expect(() => values(dir, cacheFile)).toThrow(/the inputs exceed .* together/);
  });
});
