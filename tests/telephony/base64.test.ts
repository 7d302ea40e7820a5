import { describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../src/telephony/parse.ts';

describe('media payload base64', () => {
  it.each([['AAAA'], ['AAA='], ['AA=='], [''], ['AAA'], [Buffer.alloc(160, 0xff).toString('base64')]])('accepts %j', (text) => {
    expect(Buffer.from(decodeBase64(text) ?? [1, 2, 3, 4, 5]).toString('base64').replace(/=+$/, '')).toBe(text.replace(/=+$/, ''));
  });

  it.each([['AA!A'], ['A A='], ['AAAAA'], ['AA=A'], ['A@A'], ['====']])('refuses %j (Buffer.from would skip the junk silently)', (text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });
});
