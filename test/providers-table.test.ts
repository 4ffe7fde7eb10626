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
