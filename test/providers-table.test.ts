import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { providersTable } from './support/providers-table';

const README = path.join(__dirname, '..', 'README.md');
const START = '<!-- providers-table:start (test/providers-table.test.ts checks it against src/providers/registry.ts) -->';
const END = '<!-- providers-table:end -->';

describe("README's provider capability table is the registry's (issue 10)", () => {
  it('lists every registered provider with the capabilities its module declares', () => {
    const text = fs.readFileSync(README, 'utf8');
    const from = text.indexOf(START);
    const to = text.indexOf(END);
    expect(from, 'README lacks the providers table markers').toBeGreaterThan(-1);
    expect(to).toBeGreaterThan(from);
    expect(text.slice(from + START.length, to).trim()).toBe(providersTable());
  });
});

describe('every provider of Flagger v1.44.0 has a module (issue 10)', () => {
  it("each value of the Canary CRD's spec.provider enum selects a registered provider whose Flagger name it is", async () => {
    const { FLAGGER_SCHEMAS } = await import('../src/compile/flagger-schema.generated');
    const { providerFor } = await import('../src/compile/support');
    const { PROVIDERS } = await import('../src/providers/registry');
    const values = FLAGGER_SCHEMAS.Canary.properties.spec.properties.provider.enum as string[];
    expect(values.length).toBeGreaterThanOrEqual(19);
    for (const value of values) {
      const choice = providerFor(value);
      expect(choice, value).toHaveProperty('provider');
      const module = PROVIDERS[(choice as { provider: keyof typeof PROVIDERS }).provider];
      expect(module.flagger.names, value).toContain(value);
    }
  });
});
