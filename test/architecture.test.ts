import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { PROVIDERS, PROVIDER_NAMES } from '../src/providers/registry';

// Issue 9: a provider is one module. Flagger's scheduler (pkg/controller/scheduler.go) branches on
// provider names; canarykit keeps every provider name in the provider modules and the registry.

const SRC = path.join(__dirname, '..', 'src');

/** Files allowed to spell provider names: the modules, the registries, the public factories. */
const OWNERS = [
  /^providers\//,
  /^constructs\/provider\.ts$/,
  // The example app's Ingress annotation `kubernetes.io/ingress.class: nginx` is user input.
  /^main\.ts$/,
  // Flagger's CRD, generated: its enum of every Flagger provider.
  /\.generated\.ts$/,
];

function sourceFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full, base);
    return e.name.endsWith('.ts') ? [path.relative(base, full).split(path.sep).join('/')] : [];
  });
}

const names = [...new Set(PROVIDER_NAMES.flatMap((n) => [n, ...PROVIDERS[n].flagger.names]))];

describe('provider knowledge lives in the provider modules (issue 9)', () => {
  const files = sourceFiles(SRC).filter((f) => !OWNERS.some((re) => re.test(f)));

  it('scans the tree (the check cannot pass by reading nothing)', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files).toContain('constructs/canary.ts');
    expect(files).toContain('compile/support.ts');
  });

  // Catches `plan.provider === 'kubernetes'`, `case 'istio':` and tables keyed by provider.
  it('no provider-name literal outside the provider modules and the registry', () => {
    const quoted = new RegExp(`(['"\`])(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\1`, 'g');
    const hits = files.flatMap((f) => {
      const text = fs.readFileSync(path.join(SRC, f), 'utf8');
      return text.split('\n').flatMap((line, i) => (line.match(quoted) ? [`${f}:${i + 1}: ${line.trim()}`] : []));
    });
    expect(hits).toEqual([]);
  });

  it('the registry has one module per provider, each under its own name', () => {
    expect(Object.keys(PROVIDERS)).toEqual(PROVIDER_NAMES);
    for (const n of PROVIDER_NAMES) {
      expect(PROVIDERS[n].name).toBe(n);
      expect(PROVIDERS[n].capabilities.flaggerName).toBe(PROVIDERS[n].flagger.names[0]);
    }
  });
});
