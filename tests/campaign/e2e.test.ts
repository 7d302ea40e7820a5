// End to end on both databases: a 50-row CSV (people, voicemails with beeps, busy, no-answer, failed,
// invalid rows, duplicates, a do-not-call number, two time zones — one inside its calling window, one
// outside) runs against the carrier simulator at 5× speed.
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../helpers/db.ts';
import { postCsv, simGatewayForSuite, waitFor, zoneWithLocalHour } from './harness.ts';

type Kind = 'human' | 'voicemail' | 'busy' | 'no-answer' | 'failed';
const DIGIT: Record<Kind, string> = { human: '6', voicemail: '4', busy: '1', 'no-answer': '2', failed: '3' };

/** An Etc/GMT zone whose local hour now is in [lo, hi] (Etc/GMT-N is UTC+N). */

describe.each(testDatabases())('campaign end to end against the simulator (%s)', (kind) => {
  const h = simGatewayForSuite(kind);

  it('dials each contact as configured: outcomes, retries, voicemail after the beep, windows, do-not-call, linked call records', async () => {
    const { gw, sim } = h;
    const open = zoneWithLocalHour(10, 18);
    const closed = zoneWithLocalHour(1, 5);
    const plan: Array<{ phone: string; kind: Kind; zone: string }> = [];
    const add = (k: Kind, n: number, zone = open): void => {
      for (let i = 0; i < n; i++) plan.push({ phone: `+1415555${String(plan.length + 10).padStart(3, '0')}${DIGIT[k]}`, kind: k, zone });
    };
    add('human', 16);
    add('voicemail', 8);
    add('busy', 6);
    add('no-answer', 5);
    add('failed', 3);
    add('human', 4, closed);
    const dncPhone = `+14155559${'99'}6`;
    expect((await gw.api('/v1/dnc', { body: { phone: dncPhone, reason: 'asked' } })).status).toBe(201);
    const lines = ['phone,name,timezone,firstName'];
    for (const p of plan) lines.push(`${p.phone},${p.kind},${p.zone},F${p.phone.slice(-3)}`);
    lines.push(`${dncPhone},dnc,${open},D`);
    // Four invalid rows (lines 45-48), one more valid number, and two duplicates of earlier rows.
    lines.push('12,short,,', 'not a number,x,,', '+14155550999,bad zone,Mars/Base,', ',no phone,,');
    const extra = '+14155550103';
    lines.push(`${extra},x,${open},`, `${plan[0]?.phone},dup,${open},`, `${plan[1]?.phone},dup,${open},`);
    expect(lines.length - 1).toBe(50);
    const csv = lines.join('\n');
    const created = await gw.api('/v1/campaigns', {
      body: {
        name: 'e2e',
        flowId: 'campaign-test',
        callerIds: ['+14155550100', '+14155550110'],
        voicemailPolicy: 'drop',
        timezone: open,
        pacing: { maxConcurrent: 8, callsPerMinute: 600, callsPerHour: 10000 },
        retries: { noAnswer: { maxAttempts: 2, delayS: 1 }, busy: { maxAttempts: 2, delayS: 1 }, failed: { maxAttempts: 1, delayS: 1 } },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const report = await postCsv(gw, `/v1/campaigns/${id}/contacts`, csv);
    expect(report.status).toBe(200);
    // 38 in the window + 4 outside + 1 on the list + 1 more; 4 invalid; 2 duplicates merged.
    expect(report.body).toMatchObject({ accepted: 44, invalid: 4, duplicate: 2, doNotCall: 1, timezoneSources: { column: 44, number: 0, campaign: 0 } });
    expect(report.body.problems.map((p: { line: number; field: string }) => [p.line, p.field])).toEqual([
      [45, 'phone'],
      [46, 'phone'],
      [47, 'timezone'],
      [48, 'phone'],
    ]);

    expect((await gw.api(`/v1/campaigns/${id}/start`, { method: 'POST' })).status).toBe(200);
    const inWindow = plan.filter((p) => p.zone === open).length + 1;
    let lastStats: unknown;
    const stats = await waitFor('every contact in the window to be done', async () => {
      const s = await gw.api(`/v1/campaigns/${id}/stats`);
      lastStats = s.body;
      return s.body.contacts.done === inWindow && s.body.inFlight === 0 ? s.body : undefined;
    }, 120_000).catch(async (err: unknown) => {
      const open = ((await gw.api(`/v1/campaigns/${id}/contacts?limit=500`)).body.contacts as Array<{ id: string; state: string }>).filter((c) => c.state !== 'done' && c.state !== 'queued');
      const detail = await Promise.all(open.slice(0, 5).map(async (c) => (await gw.api(`/v1/campaigns/${id}/contacts/${c.id}`)).body));
      throw new Error(`${(err as Error).message}\nstats ${JSON.stringify(lastStats)}\nopen ${JSON.stringify(detail).slice(0, 4000)}\nsim ${JSON.stringify([...sim.calls.values()].filter((c) => c.error !== undefined || !['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(c.status)).map((c) => [c.to, c.status, c.error]))}`);
    });
    expect(stats.state).toBe('running'); // the four outside their window are still to come

    // The simulator's log: who was dialed, how often.
    const dials = new Map<string, number>();
    for (const d of sim.log) dials.set(d.to, (dials.get(d.to) ?? 0) + 1);
    const expectedDials = (k: Kind): number => (k === 'busy' || k === 'no-answer' ? 2 : 1);
    for (const p of plan) expect(dials.get(p.phone) ?? 0, `${p.kind} ${p.phone}`).toBe(p.zone === closed ? 0 : expectedDials(p.kind));
    expect(dials.get(dncPhone)).toBeUndefined();
    expect(dials.get(extra)).toBe(1); // ends in 3: failed, no retry
    expect(sim.log.length).toBe(16 + 8 + 12 + 10 + 3 + 1);
    expect(stats.contacts).toEqual({ done: inWindow, queued: 4, 'do-not-call': 1 });

    const all = (await gw.api(`/v1/campaigns/${id}/contacts?limit=500`)).body.contacts as Array<{ id: string; phone: string; state: string; disposition: string; lastOutcome: string; attempts: number; nextAttemptAt: string }>;
    const byPhone = new Map(all.map((c) => [c.phone, c]));
    const simSids = new Set(sim.log.map((d) => d.sid));
    for (const p of plan) {
      const c = byPhone.get(p.phone);
      if (p.zone === closed) {
        expect(c).toMatchObject({ state: 'queued', attempts: 0 });
        expect(Date.parse(c?.nextAttemptAt ?? '')).toBeGreaterThan(Date.now());
        continue;
      }
      const expected = { human: 'human', voicemail: 'voicemail-dropped', busy: 'busy', 'no-answer': 'no-answer', failed: 'failed' }[p.kind];
      expect(c, p.phone).toMatchObject({ state: 'done', lastOutcome: expected, attempts: expectedDials(p.kind) });
      if (p.kind === 'human') expect(c?.disposition).toBe('reached');
      const detail = (await gw.api(`/v1/campaigns/${id}/contacts/${c?.id}`)).body;
      expect(detail.attempts).toHaveLength(expectedDials(p.kind));
      for (const a of detail.attempts) {
        // Each attempt is linked to its call record, which the carrier (simulator) named.
        const { call, events } = (await gw.api(`/v1/calls/${a.callId}`)).body;
        expect(call).toMatchObject({ id: a.callId, toNumber: p.phone, direction: 'outbound' });
        expect(simSids.has(call.carrierCallId)).toBe(true);
        expect(a.carrierCallId).toBe(call.carrierCallId);
        if (p.kind === 'voicemail') {
          expect(a).toMatchObject({ outcome: 'voicemail-dropped', voicemailLeft: true, amdResult: 'machine' });
          // The message started after the greeting's beep.
          const ended = (events as Array<{ type: string }>).find((e) => e.type === 'flow.voicemail.greeting_ended');
          expect(JSON.stringify(ended)).toContain('beep');
        }
      }
      if (expectedDials(p.kind) === 2) {
        const [first, second] = detail.attempts;
        expect(Date.parse(second.createdAt) - Date.parse(first.settledAt)).toBeGreaterThanOrEqual(1000);
      }
    }
    expect(byPhone.get(dncPhone)).toMatchObject({ state: 'do-not-call', attempts: 0 });
    expect(stats.attempts).toEqual({ human: 16, 'voicemail-dropped': 8, busy: 12, 'no-answer': 10, failed: 4 });

    const events = (await gw.api(`/v1/campaigns/${id}/events`)).body.events as Array<{ type: string; actor: string }>;
    expect(events.map((e) => [e.type, e.actor])).toEqual(expect.arrayContaining([['created', 'key:API_KEY'], ['contacts.imported', 'key:API_KEY'], ['start', 'key:API_KEY']]));

    // Pausing stops new dials at once; stopping ends it for good.
    expect((await gw.api(`/v1/campaigns/${id}/pause`, { method: 'POST', body: { reason: 'review' } })).body).toMatchObject({ state: 'paused', stateReason: 'review' });
    expect((await gw.api(`/v1/campaigns/${id}/stop`, { method: 'POST' })).body.state).toBe('stopped');
    expect((await gw.api(`/v1/campaigns/${id}/resume`, { method: 'POST' })).status).toBe(409);
  }, 180_000);
});
