import { execFile } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { DEFAULT_CRDS, OUTPUT_DIR, generate } from '../scripts/gen-test-schemas';
import { generate as generateValidators } from '../scripts/gen-validators';
import { STATE_SCHEMA } from '../src/model/state-schema';
import { CONFIG_SCHEMA } from '../src/adapters/config-schema';
import { DATE_TIME_FORMATS } from '../src/model/date-time-format';
import { validate as validateState } from '../src/model/state-validator.generated';
import { validate as validateConfig } from '../src/adapters/config-validator.generated';

/*
 * The committed artefacts derived from ../shared/crds (imports/, test/schemas/) are what
 * `npm run import` would write today. A clone without ../shared cannot check that, and says so.
 */

const ROOT = path.resolve(__dirname, '..');
const present = fs.existsSync(DEFAULT_CRDS);
if (!present) console.warn(`SKIPPED staleness of imports/ and test/schemas/: ${DEFAULT_CRDS} not found (clone beside shared/ to check)`);

describe.skipIf(!present)('generated artefacts are fresh', () => {
  it('test/schemas/ is what scripts/gen-test-schemas.ts generates', () => {
    const expected = generate(DEFAULT_CRDS);
    expect(fs.readdirSync(OUTPUT_DIR).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) expect(fs.readFileSync(path.join(OUTPUT_DIR, file), 'utf8'), file).toBe(text);
  });

  // cdk8s import takes seconds per CRD file, much longer on a loaded machine; run without blocking
  // the worker.
  it('imports/ is what cdk8s import writes from the CRD files (scripts/import-crds.sh)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-imports-'));
    try {
      const specs = ['istio:=istio-networking-1.30.3.yaml', 'gatewayapi:=gateway-api-v1.6.1-httproutes.yaml', 'flagger:=flagger-v1.44.0-crd.yaml'];
      for (const spec of specs) {
        const [name, file] = spec.split(':=');
        await promisify(execFile)(path.join(ROOT, 'node_modules/.bin/cdk8s'), ['import', `${name}:=${path.join(DEFAULT_CRDS, file)}`, '-l', 'typescript', '-o', out, '--no-save', '--no-check-upgrade'], { cwd: out });
      }
      const committed = fs.readdirSync(path.join(ROOT, 'imports')).sort();
      expect(fs.readdirSync(out).sort()).toEqual(committed);
      for (const f of committed) expect(fs.readFileSync(path.join(out, f), 'utf8'), `imports/${f}`).toBe(fs.readFileSync(path.join(ROOT, 'imports', f), 'utf8'));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});

// Not derived from ../shared: always checked.
describe('generated validators are fresh', () => {
  it('src/model/state-validator.generated.ts and src/adapters/config-validator.generated.ts are what scripts/gen-validators.ts writes', () => {
    const expected = generateValidators();
    expect(Object.keys(expected).length).toBe(2);
    for (const [file, text] of Object.entries(expected)) {
      expect(fs.readFileSync(path.join(ROOT, file), 'utf8'), `${file} is stale: run npx tsx scripts/gen-validators.ts`).toBe(text);
    }
  });

  it('the generated state validator reports what ajv.compile of STATE_SCHEMA reports', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('date-time', DATE_TIME_FORMATS['date-time']);
    const compiled = ajv.compile(STATE_SCHEMA);
    const bad = [
      {},
      { apiVersion: 'x', kind: 'CanaryState', namespace: '', name: 'n', phase: 'Nope', canaryWeight: -1, mirror: 'no', iterations: 0, failedChecks: 0, canaryRevision: 'r', primary: {}, lastTransitionTime: 'yesterday', extra: 1 },
      { lastTransitionTime: '2026-02-30T00:00:00Z' },
    ];
    for (const value of bad) {
      expect(validateState(value)).toBe(compiled(value));
      expect(validateState.errors).toEqual(compiled.errors);
    }
    expect(validateState.errors!.length).toBeGreaterThan(0);
  });

  it('the generated config validator reports what ajv.compile of CONFIG_SCHEMA reports', () => {
    const compiled = new Ajv({ allErrors: true, strict: false }).compile(CONFIG_SCHEMA);
    const bad = [
      { synth: '', git: { mode: 'pull-request' } },
      { prometheus: { address: 'ftp://x', timeoutSeconds: 0 }, git: { pullRequest: { provider: 'gitlab', repository: 'a', branchPrefix: '/x' } } },
      { git: { mode: 'pull-request', pullRequest: { repository: 'not a repo', apiUrl: 'https://h/api' }, maxAttempts: 21 }, bogus: true },
    ];
    for (const value of bad) {
      expect(validateConfig(value)).toBe(compiled(value));
      expect(validateConfig.errors).toEqual(compiled.errors);
    }
    expect(validateConfig({ synth: 'x', git: { mode: 'push' } })).toBe(true);
  });
});
