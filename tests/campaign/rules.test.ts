// Pure rules: calling windows in the contact's zone, time zones from numbers, row normalization, and
// the mapping from a finished call to an attempt outcome and the contact's next step.
import { describe, expect, it } from 'vitest';
import { normalizeContact } from '../../src/campaign/import.ts';
import { attemptOutcome, nextStep } from '../../src/campaign/outcome.ts';
import { defaultSettings } from '../../src/campaign/settings.ts';
import { resolveTimezone, zoneFromNumber } from '../../src/campaign/timezones.ts';
import { isWithinWindow, nextWindowOpening } from '../../src/campaign/windows.ts';

const window = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri'>, start: '09:00', end: '20:00' };

describe('calling windows', () => {
  it('are checked in the contact\'s local time, daylight saving included', () => {
    // Wed 2026-07-15 13:30 UTC = 09:30 in New York (EDT), 06:30 in Los Angeles (PDT).
    const at = new Date('2026-07-15T13:30:00Z');
    expect(isWithinWindow(at, 'America/New_York', window)).toBe(true);
    expect(isWithinWindow(at, 'America/Los_Angeles', window)).toBe(false);
    // Winter: 13:30 UTC = 08:30 EST, before 09:00.
    expect(isWithinWindow(new Date('2026-01-14T13:30:00Z'), 'America/New_York', window)).toBe(false);
  });

  it('never open before 08:00 or after 21:00 whatever the campaign says', () => {
    const wide = { days: window.days, start: '00:00', end: '24:00' };
    expect(isWithinWindow(new Date('2026-07-15T11:30:00Z'), 'America/New_York', wide)).toBe(false); // 07:30
    expect(isWithinWindow(new Date('2026-07-15T12:00:00Z'), 'America/New_York', wide)).toBe(true); // 08:00
    expect(isWithinWindow(new Date('2026-07-16T01:00:00Z'), 'America/New_York', wide)).toBe(false); // 21:00
  });

  it('tell when they open next: later today, or the next allowed day', () => {
    expect(nextWindowOpening(new Date('2026-07-15T13:30:00Z'), 'America/Los_Angeles', window)?.toISOString()).toBe('2026-07-15T16:00:00.000Z');
    // Friday 20:30 in New York → Monday 09:00 EDT.
    expect(nextWindowOpening(new Date('2026-07-18T00:30:00Z'), 'America/New_York', window)?.toISOString()).toBe('2026-07-20T13:00:00.000Z');
    const open = new Date('2026-07-15T15:00:00Z');
    expect(nextWindowOpening(open, 'America/New_York', window)).toBe(open);
  });
});

describe('time zones', () => {
  it('come from the column, else the number (area code or single-zone country), else the campaign', () => {
    expect(zoneFromNumber('+12125550100')).toBe('America/New_York');
    expect(zoneFromNumber('+13125550100')).toBe('America/Chicago');
    expect(zoneFromNumber('+16045550100')).toBe('America/Vancouver');
    expect(zoneFromNumber('+33612345678')).toBe('Europe/Paris');
    expect(zoneFromNumber('+61412345678')).toBeUndefined(); // Australia spans zones
    expect(resolveTimezone('+33612345678', 'Asia/Tokyo', 'UTC')).toEqual({ timezone: 'Asia/Tokyo', source: 'column' });
    expect(resolveTimezone('+33612345678', undefined, 'UTC')).toEqual({ timezone: 'Europe/Paris', source: 'number' });
    expect(resolveTimezone('+61412345678', undefined, 'UTC')).toEqual({ timezone: 'UTC', source: 'campaign' });
  });
});

describe('contact rows', () => {
  const opts = { campaignId: 'c', defaultCountry: 'US', campaignTimezone: 'America/Chicago' };
  it('normalize national numbers to E.164 with the default country', () => {
    const n = normalizeContact({ phone: '(212) 555-0100', name: ' Ada ', variables: { firstName: 'Ada' } }, 2, opts);
    expect(n).toMatchObject({ phone: '+12125550100', name: 'Ada', timezone: 'America/New_York', timezoneSource: 'number', priority: 0, consent: 'none' });
  });
  it('name the field and the reason when a row is refused', () => {
    expect(normalizeContact({ phone: '555' }, 3, opts)).toMatchObject({ field: 'phone', value: '555' });
    expect(normalizeContact({ phone: '+12125550100', priority: '1.5' }, 3, opts)).toMatchObject({ field: 'priority' });
    expect(normalizeContact({ phone: '+12125550100', timezone: 'Nowhere/City' }, 3, opts)).toMatchObject({ field: 'timezone' });
    expect(normalizeContact({ phone: '+12125550100', consent: 'maybe' }, 3, opts)).toMatchObject({ field: 'consent' });
    expect(normalizeContact({ phone: '+12125550100', variables: { __proto__x: 1, 'bad name': 2 } }, 3, opts)).toMatchObject({ field: 'bad name' });
  });
});

describe('attempt outcomes', () => {
  const answered = { status: 'completed', answered: true, voicemailLeft: false };
  it('map carrier statuses and the call\'s timeline', () => {
    expect(attemptOutcome({ status: 'busy', answered: false, voicemailLeft: false }).outcome).toBe('busy');
    expect(attemptOutcome({ status: 'no-answer', answered: false, voicemailLeft: false }).outcome).toBe('no-answer');
    expect(attemptOutcome({ status: 'failed', answered: false, voicemailLeft: false }).outcome).toBe('failed');
    expect(attemptOutcome({ ...answered, voicemailLeft: true, amd: { result: 'machine', atMs: 3000 } }).outcome).toBe('voicemail-dropped');
    expect(attemptOutcome({ ...answered, amd: { result: 'machine', atMs: 3000 } }).outcome).toBe('machine');
    expect(attemptOutcome({ ...answered, amd: { result: 'human', atMs: 2000 }, firstAudioAtMs: 2300, endedAtMs: 9000 })).toEqual({ outcome: 'human', abandoned: false });
  });
  it('count a live person who heard nothing for 2 s as abandoned (TSR), unless they hung up first', () => {
    expect(attemptOutcome({ ...answered, amd: { result: 'human', atMs: 2000 }, firstAudioAtMs: 4500, endedAtMs: 9000 })).toEqual({ outcome: 'abandoned', abandoned: true });
    expect(attemptOutcome({ ...answered, amd: { result: 'human', atMs: 2000 }, endedAtMs: 9000 })).toEqual({ outcome: 'abandoned', abandoned: true });
    expect(attemptOutcome({ ...answered, amd: { result: 'human', atMs: 2000 }, endedAtMs: 2500 })).toEqual({ outcome: 'human', abandoned: false });
  });
  it('decide the next step: retry per outcome with its delay, final after the limit, review when unknown', () => {
    const s = defaultSettings();
    s.retries.noAnswer = { maxAttempts: 2, delayS: 60 };
    const now = new Date(0);
    expect(nextStep('no-answer', false, { noAnswer: 1 }, s, now)).toEqual({ kind: 'retry', at: new Date(60_000), key: 'noAnswer' });
    expect(nextStep('no-answer', false, { noAnswer: 2 }, s, now)).toEqual({ kind: 'final', disposition: 'no-answer' });
    expect(nextStep('failed', true, { carrierError: 1 }, s, now)).toMatchObject({ kind: 'retry', key: 'carrierError' });
    expect(nextStep('human', false, {}, s, now)).toEqual({ kind: 'final', disposition: 'human' });
    expect(nextStep('unknown', false, {}, s, now)).toEqual({ kind: 'review' });
  });
});
