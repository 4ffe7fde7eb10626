import { ApiObject } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CanaryApp } from '../../src/constructs/canary-app';
import { Provider } from '../../src/constructs/provider';
import { fastYaml, plainSafe } from '../../src/constructs/fast-yaml';
import { toYaml, yamlStringify } from '../../src/constructs/output';
import { buildExampleApp } from '../../src/main';
import { addIngress, fixture, phaseCases } from '../support/construct-fixtures';
import { localeSensitiveApp } from './support/determinism-apps';
import { seededRandom as rng } from '../support/seeded-random';

// fastYaml must write exactly what `yaml` writes, or return undefined so `yaml` does. Every check
// compares with the reference (`yamlStringify`), and checks that the fast path is actually taken.

/** Strings rich in YAML edge cases: booleans, numbers, indicators, quotes, unicode, controls. */
const POOL: readonly string[] = [
  'yes', 'Yes', 'YES', 'yEs', 'no', 'No', 'on', 'On', 'ON', 'off', 'Off', 'y', 'Y', 'n', 'N', 'true', 'True', 'TRUE', 'tRue',
  'false', 'False', 'null', 'Null', 'NULL', 'nUll', '~', '', '0644', '0o17', '0x1F', '0X1f', '0b101', '1e3', '1E3', '1e+3', '.5e3',
  '1.5', '-1', '+1', '.5', '5.', '.inf', '-.inf', '+.INF', '.NaN', '.nan', '1_000', '12:30', '190:20:30.15', '2001-12-14',
  '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '2001-12-14T21:59:43.10Z', '2001-12-14t21:59:43z', '6.0.0', '1.0', '0', '00', '-0', '.', '..', '...', '...a', '.svc',
  'a: b', 'a:b', 'a:', 'a::b', '#x', 'a #b', 'a#b', '-', '-a', '- a', '--', '---', '--- a', '?', '? a', '?a', ':a', ':', '[a]',
  'a[0]', '{a}', 'a{b}', 'a,b', ',a', '*a', '&a', '!a', '!!str', '|', '|a', '>a', "'a'", '"a"', '%a', '%YAML', '@a', '`a`',
  ' x', 'x ', ' ', 'x\ty', '\t', 'a\nb', 'a\n', '\n', 'a \nb', 'a\n b', 'app.kubernetes.io/name', 'podinfo:6.0.0', 'http://x',
  'https://x.example.com:8080/p?q=1#f', 'ünïcödé', 'value 1 – ünïcödé', '日本', '😀', '\u0000', '\u0007', '\u001b', '\u007f',
  '\u0085', '\u00a0', '\u2028', '\ufeff', '\ud800', '<<', '<a', '=', '=a', "a'b", 'a"b', 'a\'b"c', 'back\\slash', 'a \\n b',
  '1m', '30s', '1h', '1d', '5f2c8912-3d74-49bc-8832-3d76aaa28cd5', '$(POD_NAME)', '(x)', '_x', '/healthz', 'x: ', 'a - b',
  'a -b', 'a ?b', '--port=9898', '-x', '--', '-.5', '-1.5', '-0x1F', '-.inf', '-1e3', '-:', '-a:', '----', '-?', 'Weight(100)', '50%', 'sum(rate(x{a="b"}[1m]))', 'k8s.io/x=y', 'x'.repeat(1100), 'abc', 'podinfo', 'a b',
];


const NUMBERS = [0, 1, -1, 42, 9898, -0, 1.5, -2.25, 0.1, 1e21, 1e-7, 2 ** 53, -(2 ** 53) - 2, 123456789012, Number.MAX_VALUE, Number.MIN_VALUE];
const ALPHABET = 'ay01.:-_ #\'"/xeE\n\t{}[],?!&*%@`|>~+ü';

function randomString(r: () => number): string {
  if (r() < 0.6) return POOL[Math.floor(r() * POOL.length)];
  let s = '';
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const p = r();
  if (depth < 4 && p < 0.3) {
    const o: Record<string, unknown> = {};
    const n = Math.floor(r() * 5);
    for (let i = 0; i < n; i++) o[randomString(r)] = r() < 0.05 ? undefined : randomValue(r, depth + 1);
    return o;
  }
  if (depth < 4 && p < 0.5) {
    const n = Math.floor(r() * 4);
    return Array.from({ length: n }, () => (r() < 0.02 ? undefined : randomValue(r, depth + 1)));
  }
  if (p < 0.8) return randomString(r);
  if (p < 0.9) return NUMBERS[Math.floor(r() * NUMBERS.length)];
  if (p < 0.95) return r() < 0.5;
  return null;
}

/** Compares with the reference; true when the fast path wrote it. */
function sameAsYaml(value: unknown): boolean {
  const fast = fastYaml(value);
  if (fast !== undefined) expect(fast, JSON.stringify(value)).toBe(yamlStringify(value));
  return fast !== undefined;
}

describe('fastYaml writes what yaml writes', () => {
  it('hand-picked shapes, with the exact text', () => {
    const cases: Array<[unknown, string]> = [
      [{ a: 1, b: { c: 'x', d: { e: true } } }, 'a: 1\nb:\n  c: x\n  d:\n    e: true\n'],
      [{ a: ['x', 'z'] }, 'a:\n  - x\n  - z\n'],
      [{ a: [{ b: 1, c: 2 }, { d: [1, [2, 3]] }] }, 'a:\n  - b: 1\n    c: 2\n  - d:\n      - 1\n      - - 2\n        - 3\n'],
      [[{ a: { b: 1 } }, [], {}], '- a:\n    b: 1\n- []\n- {}\n'],
      [{ a: {}, b: [], c: null, d: false }, 'a: {}\nb: []\nc: null\nd: false\n'],
      [{}, '{}\n'],
      [[], '[]\n'],
      [{ a: undefined, b: 1 }, 'b: 1\n'],
      [{ a: undefined }, '{}\n'],
      [Object.assign(Object.create(null) as object, { a: 1 }), 'a: 1\n'],
      [{ nums: [0, -1, 1.5, -0, 1e21, 1e-7, 2 ** 53, 0.1] }, 'nums:\n  - 0\n  - -1\n  - 1.5\n  - -0\n  - 1e+21\n  - 1e-7\n  - 9007199254740992\n  - 0.1\n'],
      [{ 'app.kubernetes.io/name': 'podinfo', image: 'ghcr.io/x/podinfo:6.0.0', url: 'http://x:80/p', id: '5f2c8912-3d74' }, 'app.kubernetes.io/name: podinfo\nimage: ghcr.io/x/podinfo:6.0.0\nurl: http://x:80/p\nid: 5f2c8912-3d74\n'],
      [{ yes: 'no', '0644': '1e3', '': '', on: 'a: b', x: '"q"', z: "'s", w: "it's" }, '"yes": "no"\n"0644": "1e3"\n"": ""\n"on": "a: b"\nx: \'"q"\'\nz: "\'s"\nw: it\'s\n'],
      [{ q: 'sum(rate(x{a="b"}[1m]))', w: 'Weight(100)' }, 'q: sum(rate(x{a="b"}[1m]))\nw: Weight(100)\n'],
    ];
    for (const [value, text] of cases) {
      expect(yamlStringify(value)).toBe(text);
      expect(fastYaml(value), text).toBe(text);
    }
  });

  it('falls back for what it is not certain about', () => {
    const unsure: unknown[] = [
      'top-level scalar', 1, null, undefined, { a: 'a\nb' }, { a: 'ü' }, { a: '\u0000' }, { a: 'x\ty' }, { a: '2001-12-14' },
      { a: '0x1F' }, { a: '12:30' }, { a: '6.0.0' }, { a: '-?' }, { a: '---' }, { a: NaN }, { a: Infinity }, { a: 10n },
      { a: new Date(0) }, { a: new Map() }, [undefined], [1, , 2], { a: () => 1 }, { ['x'.repeat(1001)]: 1 }, { a: Symbol('s') },
    ];
    for (const value of unsure) expect(fastYaml(value)).toBeUndefined();
    expect(toYaml({ a: 'a\nb' })).toBe('a: |-\n  a\n  b\n');
  });

  it('every pool string as a key, a value and a sequence item', () => {
    let fast = 0;
    for (const s of POOL) {
      for (const value of [{ k: s }, { [s]: 'v' }, [s], { a: { [s]: [s, { [s]: s }] } }]) if (sameAsYaml(value)) fast++;
      if (plainSafe(s)) expect(fastYaml({ k: s }), s).toBe(`k: ${s}\n`);
    }
    // Most pool strings are awkward on purpose, but many are written here, quoted or plain.
    expect(fast).toBeGreaterThan(POOL.length);
  });

  it('plain-safe strings read back as themselves in YAML 1.1 and 1.2', () => {
    const safe = POOL.filter(plainSafe);
    expect(safe).toEqual(expect.arrayContaining(['--port=9898', '-x', 'app.kubernetes.io/name', 'podinfo:6.0.0', 'http://x', '1m', 'a:b', 'a#b']));
    for (const bad of ['yes', 'yEs', '0644', '1e3', 'a: b', '#x', '-', '', ' x', 'x ', '.inf', '12:30', '2001-12-14', '0x1F', '<<', '=', '-1', '-.5', '-.inf', '---', '- a', '-'])
      expect(plainSafe(bad), bad).toBe(false);
    for (const s of safe.filter((x) => x.length < 1024)) {
      for (const version of ['1.1', '1.2'] as const) expect(parse(`k: ${s}\n${s}: v\n`, { version }), s).toEqual({ k: s, [s]: 'v' });
    }
  });

  it('thousands of seeded random JSON values', () => {
    const r = rng(14);
    let fast = 0;
    const n = 5000;
    for (let i = 0; i < n; i++) {
      const value = r() < 0.5 ? randomValue(r, 0) : { root: randomValue(r, 1) };
      if (sameAsYaml(value)) fast++;
    }
    // Both paths are exercised: a good share is written here, the rest falls back.
    expect(fast).toBeGreaterThan(n * 0.2);
    expect(fast).toBeLessThan(n);
  });
});

/** Every object a render writes: toYaml equals the reference, and how many took the fast path. */
function checkRendered(app: CanaryApp): { objects: number; fast: number } {
  app.render();
  let objects = 0;
  let fast = 0;
  for (const c of app.node.findAll()) {
    if (!(c instanceof ApiObject)) continue;
    const json = c.toJson();
    objects++;
    if (sameAsYaml(json)) fast++;
    expect(toYaml(json)).toBe(yamlStringify(json));
  }
  return { objects, fast };
}

describe('fastYaml on the real renderers', () => {
  it('the example app (every provider family and knative) is written entirely by the fast path', () => {
    const { objects, fast } = checkRendered(buildExampleApp('/tmp/canarykit-unused-outdir'));
    expect(objects).toBeGreaterThan(50);
    expect(fast).toBe(objects);
  });

  it('istio, nginx, gateway API, kubernetes and skipper at every phase', () => {
    const providers = [
      { provider: 'istio' as const },
      { provider: 'nginx' as const },
      { provider: 'gatewayApi' as const },
      { provider: 'kubernetes' as const },
      { providerIn: (chart: Parameters<typeof addIngress>[0]) => Provider.skipper({ ingress: addIngress(chart, { annotations: { 'kubernetes.io/ingress.class': 'skipper' } }) }) },
    ];
    for (const p of providers) {
      for (const c of phaseCases()) {
        const { objects, fast } = checkRendered(fixture({ ...p, state: c.state, hpa: true }).app);
        expect(objects).toBeGreaterThan(3);
        expect(fast, `${p.provider ?? 'skipper'} ${c.label}`).toBe(objects);
      }
    }
  });

  it('unicode and other fallbacks still write yaml output', () => {
    const { objects, fast } = checkRendered(localeSensitiveApp('/tmp/canarykit-unused-outdir'));
    expect(fast).toBeLessThan(objects); // the ConfigMaps with "ünïcödé" values fall back
    expect(fast).toBeGreaterThan(0);
  });
});
