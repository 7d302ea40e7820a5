// Every GW_ERR_ code the code base uses is in the catalogue, and the users' list matches it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, renderErrorDocs } from '../src/errorCatalogue.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Whole codes in a text; prefixes that build or test a family (`GW_ERR_FLOW_`) are not codes. */
function codesIn(text: string): string[] {
  return [...text.matchAll(/GW_ERR_[A-Z0-9_]+/g)].map((m) => m[0]).filter((c) => !c.endsWith('_'));
}

/** Each code used in src/ and dsp/ (the catalogue itself aside), with the first file that uses it. */
function usedCodes(): Map<string, string> {
  const where = new Map<string, string>();
  for (const dir of ['src', 'dsp']) {
    for (const f of readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.ts') || f === 'errorCatalogue.ts') continue;
      for (const code of codesIn(readFileSync(path.join(ROOT, dir, f), 'utf8'))) if (!where.has(code)) where.set(code, `${dir}/${f}`);
    }
  }
  return where;
}

describe('error catalogue', () => {
  it('lists every GW_ERR_ code used in src/ and dsp/', () => {
    const missing = [...usedCodes()].filter(([code]) => !(code in ERROR_CATALOGUE)).map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  it('has no entry that nothing uses any more', () => {
    const used = usedCodes();
    expect(Object.keys(ERROR_CATALOGUE).filter((code) => !used.has(code))).toEqual([]);
  });

  it('recognises codes and skips family prefixes (the scan can fail)', () => {
    expect(codesIn("createError('GW_ERR_FLOW_NEW_THING', 'x'); if (code.startsWith('GW_ERR_FLOW_'))")).toEqual(['GW_ERR_FLOW_NEW_THING']);
    expect('GW_ERR_FLOW_NEW_THING' in ERROR_CATALOGUE).toBe(false);
  });

  it('gives every code a status, a message and what to do', () => {
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^GW_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      expect(e.statusCode, code).toBeGreaterThanOrEqual(400);
      expect(e.statusCode, code).toBeLessThan(600);
      expect(e.message.length, code).toBeGreaterThan(0);
      expect(e.action.length, code).toBeGreaterThan(0);
    }
  });

  it('keeps docs/errors.md in step (regenerate with: npx node src/cli/errorsDoc.ts)', () => {
    const docs = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
    expect(docs).toBe(renderErrorDocs());
    expect(docs).toContain('| `GW_ERR_FLOW_INVALID` | 400 |');
  });
});
