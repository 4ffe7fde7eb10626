import { execFile } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CRDS, OUTPUT_DIR, generate } from '../scripts/gen-test-schemas';

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
