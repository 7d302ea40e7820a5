// The campaign REST API against a gateway wired to the simulator: validation that names the field,
// editing a running campaign, JSON import with time-zone sources and consent, skip, the do-not-call
// list, CSV exports, the stats stream, and the voicemail policy `hangup` on the call.
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../helpers/db.ts';
import { openZone, postCsv, simGatewayForSuite, waitFor } from './harness.ts';

// A zone where it is now mid-day, whatever the hour the tests run at: the legal 08:00–21:00 applies in
// the contact's zone, so a fixed zone (this file once used Etc/GMT-12) closes the dialer for half the day.
const ZONE = openZone();
const base = { flowId: 'campaign-test', callerIds: ['+14155550100'], timezone: 'UTC', window: { start: '00:00', end: '24:00' } };

describe.each(testDatabases())('campaign API (%s)', (kind) => {
  const h = simGatewayForSuite(kind);

  it('documents every campaign and do-not-call route in the OpenAPI document', async () => {
    const doc = (await h.gw.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { summary?: string; tags?: string[] }>> }>();
    for (const p of ['/v1/campaigns', '/v1/campaigns/{id}', '/v1/campaigns/{id}/start', '/v1/campaigns/{id}/skip', '/v1/campaigns/{id}/contacts', '/v1/campaigns/{id}/contacts/{contactId}', '/v1/campaigns/{id}/contacts/export', '/v1/campaigns/{id}/attempts/export', '/v1/campaigns/{id}/stats', '/v1/campaigns/{id}/stats/stream', '/v1/campaigns/{id}/events', '/v1/dnc', '/v1/dnc/{e164}', '/v1/dnc/import']) {
      expect(doc.paths[p], p).toBeDefined();
      for (const op of Object.values(doc.paths[p] ?? {})) expect(op.summary, p).toBeTruthy();
    }
    expect(JSON.stringify(doc.paths['/v1/campaigns']?.post)).toContain('November reminders');
  });

  it('refuses bad input with a 400 that names the field', async () => {
    const { gw } = h;
    const cases: Array<[unknown, string]> = [
      [{ name: 'x', flowId: 'campaign-test' }, 'callerIds'],
      [{ ...base, name: 'x', timezone: 'Mars/Base' }, 'timezone'],
      [{ ...base, name: 'x', window: { start: '20:00', end: '09:00' } }, 'window'],
      [{ ...base, name: 'x', flowId: 'nope' }, 'flowId'],
      [{ ...base, name: 'x', pacing: { callsPerMinute: 0 } }, 'callsPerMinute'],
      [{ ...base, name: 'x', voicemailPolicy: 'shout' }, 'voicemailPolicy'],
      [{ ...base, name: 'x', flowId: 'default', voicemailPolicy: 'drop' }, 'voicemailPolicy'],
    ];
    for (const [body, field] of cases) {
      const res = await gw.api('/v1/campaigns', { body });
      expect(res.status, field).toBe(400);
      expect(res.body.message).toContain(field);
    }
    expect((await gw.api('/v1/campaigns/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('lists, reads and edits a campaign, also while it runs; the audit trail says who', async () => {
    const { gw } = h;
    const c = (await gw.api('/v1/campaigns', { body: { ...base, name: 'edit me' } })).body;
    expect(c).toMatchObject({ state: 'draft', pacing: { callsPerMinute: 10, callsPerHour: 200, maxConcurrent: 5 }, voicemailPolicy: 'hangup', window: { start: '00:00', end: '24:00' } });
    expect((await gw.api('/v1/campaigns')).body.campaigns.some((x: { id: string }) => x.id === c.id)).toBe(true);
    expect((await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' })).body.state).toBe('running');
    const patched = await gw.api(`/v1/campaigns/${c.id}`, { method: 'PATCH', body: { pacing: { callsPerMinute: 30 }, retries: { busy: { maxAttempts: 5, delayS: 60 } } } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ state: 'running', pacing: { callsPerMinute: 30, callsPerHour: 200 }, retries: { busy: { maxAttempts: 5, delayS: 60 }, noAnswer: { maxAttempts: 3 } } });
    expect((await gw.api(`/v1/campaigns/${c.id}`, { method: 'PATCH', body: { pacing: { callsPerMinute: 500 } } })).body.message).toContain('callsPerHour');
    expect((await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' })).status).toBe(409);
    expect((await gw.api(`/v1/campaigns/${c.id}/stop`, { method: 'POST' })).body.state).toBe('stopped');
    const events = (await gw.api(`/v1/campaigns/${c.id}/events`)).body.events;
    expect(events.map((e: { type: string; actor: string }) => `${e.type}:${e.actor}`)).toEqual(['created:key:API_KEY', 'start:key:API_KEY', 'updated:key:API_KEY', 'stop:key:API_KEY']);
  });

  it('imports JSON with time-zone sources and consent; skips; never dials below the required consent', async () => {
    const { gw, sim } = h;
    const c = (await gw.api('/v1/campaigns', { body: { ...base, name: 'consent', requiredConsent: 'express', timezone: ZONE } })).body;
    const report = await gw.api(`/v1/campaigns/${c.id}/contacts`, {
      body: {
        contacts: [
          { phone: '+33612345676', consent: 'written', consentSource: 'web form', timezone: ZONE },
          { phone: '+61412345676', consent: 'express' },
          { phone: '+61412345686', consent: 'none' },
          { phone: '+61412345696', consent: 'express' },
          { phone: 'x' },
        ],
      },
    });
    expect(report.body).toMatchObject({ accepted: 4, invalid: 1, duplicate: 0, timezoneSources: { column: 1, number: 0, campaign: 3 }, problems: [{ line: 5, field: 'phone' }] });
    const listed = (await gw.api(`/v1/campaigns/${c.id}/contacts?state=queued`)).body.contacts as Array<{ id: string; phone: string }>;
    const skipped = await gw.api(`/v1/campaigns/${c.id}/skip`, { method: 'POST', body: { contactId: listed.find((x) => x.phone === '+61412345696')?.id } });
    expect(skipped.body).toMatchObject({ state: 'skipped', phone: '+61412345696' });
    expect((await gw.api(`/v1/campaigns/${c.id}/skip`, { method: 'POST', body: { contactId: skipped.body.id } })).status).toBe(409);
    // Every contact is mid-day in its zone (the Paris number's own, the others the campaign's).
    await gw.api(`/v1/campaigns/${c.id}`, { method: 'PATCH', body: { pacing: { callsPerMinute: 600, callsPerHour: 10000 } } });
    expect((await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' })).status).toBe(200);
    const noConsent = await waitFor('the contact without consent to be closed', async () => {
      const all = (await gw.api(`/v1/campaigns/${c.id}/contacts`)).body.contacts as Array<{ phone: string; state: string; disposition: string | null; attempts: number }>;
      const x = all.find((k) => k.phone === '+61412345686');
      return x?.state === 'done' ? x : undefined;
    });
    expect(noConsent).toMatchObject({ disposition: 'no-consent', attempts: 0 });
    expect(sim.log.some((d) => d.to === '+61412345686' || d.to === '+61412345696')).toBe(false);
    await gw.api(`/v1/campaigns/${c.id}/stop`, { method: 'POST' });
  });

  it('keeps one do-not-call list: add, check, list, import, remove; listed numbers are never dialed', async () => {
    const { gw, sim } = h;
    expect((await gw.api('/v1/dnc', { body: { phone: '(415) 555-0177' } })).body).toMatchObject({ e164: '+14155550177', source: 'api', actor: 'key:API_KEY' });
    expect((await gw.api('/v1/dnc', { body: { phone: '+14155550177' } })).status).toBe(200);
    expect((await gw.api('/v1/dnc', { body: { phone: 'abc' } })).body.message).toContain('phone');
    expect((await gw.api('/v1/dnc/%2B14155550177')).body).toMatchObject({ e164: '+14155550177', listed: true });
    const imported = await postCsv(gw, '/v1/dnc/import', 'phone,reason\n+14155550178,asked\n+14155550177,again\nnope,\n');
    expect(imported.body).toMatchObject({ added: 1, alreadyListed: 1, invalid: 1, problems: [{ line: 4, field: 'phone' }] });
    const list = (await gw.api('/v1/dnc?limit=1')).body;
    expect(list.entries).toHaveLength(1);
    expect((await gw.api(`/v1/dnc?limit=10&cursor=${encodeURIComponent(list.nextCursor)}`)).body.entries.length).toBeGreaterThanOrEqual(1);

    const c = (await gw.api('/v1/campaigns', { body: { ...base, name: 'dnc', timezone: ZONE, pacing: { callsPerMinute: 600, callsPerHour: 10000 } } })).body;
    await gw.api(`/v1/campaigns/${c.id}/contacts`, { body: { contacts: [{ phone: '+14155550179', timezone: ZONE }, { phone: '+14155550178', timezone: ZONE }] } });
    // Listed after the import: the check at dial time still catches it.
    await gw.api('/v1/dnc', { body: { phone: '+14155550179' } });
    await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' });
    await waitFor('both contacts closed', async () => {
      const s = (await gw.api(`/v1/campaigns/${c.id}/stats`)).body;
      return s.contacts['do-not-call'] === 2 ? s : undefined;
    });
    expect(sim.log.some((d) => d.to === '+14155550179' || d.to === '+14155550178')).toBe(false);
    expect((await gw.api('/v1/dnc/%2B14155550178', { method: 'DELETE' })).status).toBe(204);
    expect((await gw.api('/v1/dnc/%2B14155550178')).body.listed).toBe(false);
  });

  it('hangs up on a machine with voicemailPolicy hangup, retries it later, and streams stats; exports CSV', async () => {
    const { gw, sim } = h;
    const c = (await gw.api('/v1/campaigns', {
      body: { ...base, name: 'vm hangup', timezone: ZONE, voicemailPolicy: 'hangup', pacing: { callsPerMinute: 600, callsPerHour: 10000 }, retries: { machine: { maxAttempts: 2, delayS: 1 } } },
    })).body;
    await postCsv(gw, `/v1/campaigns/${c.id}/contacts`, `phone,timezone,firstName\n+14155550274,${ZONE},Vi\n+14155550276,${ZONE},Hu\n`);
    const res = await fetch(`${gw.httpUrl}/v1/campaigns/${c.id}/stats/stream`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^event: stats\ndata: \{.*"contactsTotal":2/);
    await reader.cancel();
    await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' });
    const done = await waitFor('completion', async () => {
      const s = (await gw.api(`/v1/campaigns/${c.id}/stats`)).body;
      return s.state === 'completed' ? s : undefined;
    });
    expect(done.attempts).toEqual({ machine: 2, human: 1 });
    const vm = sim.log.filter((d) => d.to === '+14155550274');
    expect(vm).toHaveLength(2);
    // The gateway hung up through the carrier API as soon as AMD said machine: no message was left.
    for (const d of vm) expect(sim.calls.get(d.sid)?.hangup.signal.aborted).toBe(true);

    const contacts = await fetch(`${gw.httpUrl}/v1/campaigns/${c.id}/contacts/export`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
    expect(contacts.headers.get('content-disposition')).toContain(`campaign-${c.id}-contacts.csv`);
    const lines = (await contacts.text()).trim().split('\n');
    expect(lines[0]).toContain('phone');
    expect(lines).toHaveLength(3);
    const attempts = await (await fetch(`${gw.httpUrl}/v1/campaigns/${c.id}/attempts/export`, { headers: { authorization: `Bearer ${gw.apiKey}` } })).text();
    expect(attempts.trim().split('\n')).toHaveLength(4);
    expect(attempts).toContain('machine');
  });
});
