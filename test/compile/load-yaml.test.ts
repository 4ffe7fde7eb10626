import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listYamlFiles, loadYamlInputs, parseYaml } from '../../src/compile/load-yaml';
import { tempDir } from './support';

describe('parseYaml', () => {
  it('numbers documents from 1, skips empty ones and keeps their origin and lines', () => {
    const { objects, problems } = parseYaml('a: 1\n---\n# only a comment\n---\n\n---\nkind: ConfigMap\nmetadata:\n  name: x\n', 'in.yaml');
    expect(problems).toEqual([]);
    expect(objects.map((o) => [o.origin.index, o.json])).toEqual([
      [1, { a: 1 }],
      [4, { kind: 'ConfigMap', metadata: { name: 'x' } }],
    ]);
    expect(objects[1].lineOf(['metadata', 'name'])).toBe(9);
    expect(objects[1].lineOf([])).toBe(7);
    expect(objects[1].lineOf(['nope'])).toBeUndefined();
  });

  it('reads YAML 1.1 like kubectl and cdk8s Include: octal modes and yes/no, timestamps stay text', () => {
    const { objects } = parseYaml('mode: 0644\nflag: yes\nquoted: "yes"\nday: 2024-01-31\nhex: 0x1F\n', 'in.yaml');
    expect(objects[0].json).toEqual({ mode: 420, flag: true, quoted: 'yes', day: '2024-01-31', hex: 31 });
  });

  it('turns every error and warning into a problem naming file, document and line; no half-parsed objects', () => {
    const { objects, problems } = parseYaml('ok: 1\n---\na: 1\na: 2\n---\nb: !custom x\n---\nc: [1,\n', 'in.yaml');
    expect(objects.map((o) => o.origin.index)).toEqual([1]);
    expect(problems).toEqual([
      { path: 'in.yaml#2', message: expect.stringMatching(/^YAML syntax error at line 4: Map keys must be unique/) },
      { path: 'in.yaml#3', message: expect.stringMatching(/^YAML warning at line 6: Unresolved tag: !custom/) },
      { path: 'in.yaml#4', message: expect.stringMatching(/^YAML syntax error at line \d+: /) },
    ]);
  });

  it('rejects keys that YAML 1.1 turns into booleans', () => {
    const { problems } = parseYaml('data:\n  on: x\n  "off": y\n', 'in.yaml');
    expect(problems).toEqual([{ path: 'in.yaml#1', message: 'line 2: plain key on is the boolean true in YAML 1.1 (Kubernetes reads it as "true"); quote it ("on")' }]);
  });

  it('rejects base-60 numbers, which YAML 1.1 and Kubernetes read differently', () => {
    const { objects, problems } = parseYaml('port: 22:30\nquoted: "22:30"\n', 'in.yaml');
    expect(objects).toEqual([]);
    expect(problems).toEqual([{ path: 'in.yaml#1', message: expect.stringContaining('line 1: plain value 22:30 is a base-60 number (1350)') }]);
  });
});

describe('loadYamlInputs', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
    const write = (rel: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    };
    write('apps/b.yaml', 'name: b\n');
    write('apps/a.yml', 'name: a\n---\nname: a2\n');
    write('apps/nested/c.yaml', 'name: c\n');
    write('apps/.hidden/d.yaml', 'name: hidden\n');
    write('apps/README.md', '# not yaml\n');
    write('single.yaml', 'name: single\n');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('walks folders recursively in byte order, skipping dot entries and non-YAML files', () => {
    const objects = loadYamlInputs(['apps', 'single.yaml', 'apps/b.yaml'], dir);
    expect(objects.map((o) => `${o.origin.file}#${o.origin.index} ${o.json.name}`)).toEqual([
      'apps/a.yml#1 a',
      'apps/a.yml#2 a2',
      'apps/b.yaml#1 b',
      'apps/nested/c.yaml#1 c',
      'single.yaml#1 single',
    ]);
  });

  it('reports missing paths and folders without YAML', () => {
    fs.mkdirSync(path.join(dir, 'empty'));
    expect(listYamlFiles(['nope', 'empty'], dir).problems).toEqual([
      { path: 'nope', message: 'no such file or folder' },
      { path: 'empty', message: 'folder holds no .yaml or .yml files' },
    ]);
    expect(() => loadYamlInputs([], dir)).toThrow(/name at least one YAML file or folder/);
  });
});
