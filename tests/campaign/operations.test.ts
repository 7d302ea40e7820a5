// Operating a campaign through the API, against the carrier simulator: contacts held for review (the
// carrier timed out after the call was sent) listed by state with paging and resolved — done,
// do-not-call, requeue — once each, audited; and the flow version a campaign pins when it starts, which
// a redeploy of the flow does not change until the campaign is updated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../helpers/db.ts';
import { openZone, startSimGateway, waitFor, type SimGateway } from './harness.ts';

const base = { callerIds: ['+14155550100'], timezone: 'UTC', window: { start: '00:00', end: '24:00' }, pacing: { callsPerMinute: 600, callsPerHour: 10000 } };

/** A flow whose version shows in the contact's disposition. */
const versioned = (tag: string) => ({
  id: 'pin-test',
  start: 'hi',
  nodes: {
    hi: { type: 'say', audio: 'greeting.wav', next: 'mark' },
    mark: { type: 'set', values: { disposition: tag }, next: 'bye' },
    bye: { type: 'hangup', reason: 'done' },
  },
});

describe.each(testDatabases())('campaign operations (%s)', (kind) => {
  let h: SimGateway;
  beforeAll(async () => {
    h = await startSimGateway(kind);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('lists contacts in review with paging and resolves each once: done, do-not-call, requeue; audited', async () => {
    const { gw, sim } = h;
    const c = (await gw.api('/v1/campaigns', { body: { ...base, name: 'review', flowId: 'campaign-test' } })).body;
    await gw.api(`/v1/campaigns/${c.id}/contacts`, { body: { contacts: [{ phone: '+14155550306', timezone: openZone() }, { phone: '+14155550307', timezone: openZone() }, { phone: '+14155550308', timezone: openZone() }] } });
    // The carrier answers the create request after the gateway's 10 s timeout: each call may have rung.
    sim.setCreateLatency(10_500);
    await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' });
    await waitFor('three contacts in review', async () => {
      const s = (await gw.api(`/v1/campaigns/${c.id}/stats`)).body;
      return s.contacts.review === 3 ? true : undefined;
    });
    sim.setCreateLatency(0);

    const first = (await gw.api(`/v1/campaigns/${c.id}/contacts?state=review&limit=2`)).body;
    expect(first.contacts).toHaveLength(2);
    const second = (await gw.api(`/v1/campaigns/${c.id}/contacts?state=review&limit=2&cursor=${first.nextCursor}`)).body;
    expect(second.contacts).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const [a, b, d] = [...first.contacts, ...second.contacts] as Array<{ id: string; phone: string }>;
    const resolve = (id: string | undefined, body: unknown) => gw.api(`/v1/campaigns/${c.id}/contacts/${id}/resolve`, { body });

    const bad = await resolve(a?.id, { action: 'forget' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('action');

    const done = await resolve(a?.id, { action: 'done', disposition: 'reached-by-email' });
    expect(done.status).toBe(200);
    expect(done.body.contact).toMatchObject({ state: 'done', disposition: 'reached-by-email' });
    const again = await resolve(a?.id, { action: 'requeue' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('GW_ERR_CAMPAIGN_NOT_IN_REVIEW');

    const dnc = await resolve(b?.id, { action: 'do-not-call', note: 'asked by email' });
    expect(dnc.body.contact).toMatchObject({ state: 'do-not-call', disposition: 'do-not-call' });
    expect((await gw.api(`/v1/dnc/${encodeURIComponent(b?.phone ?? '')}`)).body).toMatchObject({ listed: true, entry: { source: 'review' } });

    // The campaign completed (nothing left to dial); requeuing reopens it, and the dial waits until the
    // unknown call is certainly over (its record never ended: ring time + longest call + margin).
    await waitFor('completion', async () => ((await gw.api(`/v1/campaigns/${c.id}`)).body.state === 'completed' ? true : undefined));
    const requeued = await resolve(d?.id, { action: 'requeue' });
    expect(requeued.status).toBe(200);
    expect(requeued.body.contact.state).toBe('queued');
    expect(Date.parse(requeued.body.notBefore)).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(requeued.body.contact.nextAttemptAt).toBe(requeued.body.notBefore);
    expect((await gw.api(`/v1/campaigns/${c.id}`)).body.state).toBe('running');
    const dialsBefore = sim.log.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.log.length).toBe(dialsBefore);

    const events = (await gw.api(`/v1/campaigns/${c.id}/events`)).body.events as Array<{ type: string; actor: string; data: Record<string, unknown> }>;
    expect(events.filter((e) => e.type === 'contact.resolved').map((e) => `${String(e.data.action)}:${e.actor}`)).toEqual(['done:key:API_KEY', 'do-not-call:key:API_KEY', 'requeue:key:API_KEY']);
    const audit = (await gw.api('/v1/audit?limit=50')).body.events as Array<{ route: string; target: Record<string, unknown> }>;
    const resolved = audit.filter((e) => e.route === '/v1/campaigns/:id/contacts/:contactId/resolve');
    expect(resolved.map((e) => e.target.action).sort()).toEqual(['do-not-call', 'done', 'requeue']);
    expect(resolved.every((e) => e.target.contactId !== undefined)).toBe(true);

    const doc = (await gw.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    expect(JSON.stringify(doc.paths['/v1/campaigns/{id}/contacts/{contactId}/resolve'])).toContain('reached-by-email');
  }, 90_000);

  it('pins the flow version at start: a redeploy does not change a running campaign until it is updated', async () => {
    const { gw } = h;
    expect((await gw.api('/v1/flows', { body: versioned('v1') })).body.version).toBe(1);
    const c = (await gw.api('/v1/campaigns', { body: { ...base, name: 'pinned', flowId: 'pin-test' } })).body;
    expect(c.flowVersion).toBeNull();
    expect((await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' })).body.flowVersion).toBe(1);
    expect((await gw.api('/v1/flows', { body: versioned('v2') })).body.version).toBe(2);
    // A number that never answers is retried an hour later: the campaign stays running meanwhile.
    await gw.api(`/v1/campaigns/${c.id}/contacts`, { body: { contacts: [{ phone: '+14155550312', timezone: openZone() }] } });

    const dialOne = async (phone: string): Promise<{ disposition: string; callId: string }> => {
      await gw.api(`/v1/campaigns/${c.id}/contacts`, { body: { contacts: [{ phone, timezone: openZone() }] } });
      return waitFor(`${phone} done`, async () => {
        const list = (await gw.api(`/v1/campaigns/${c.id}/contacts?state=done`)).body.contacts as Array<{ id: string; phone: string; disposition: string }>;
        const done = list.find((x) => x.phone === phone);
        if (done === undefined) return undefined;
        const detail = (await gw.api(`/v1/campaigns/${c.id}/contacts/${done.id}`)).body;
        return { disposition: done.disposition, callId: detail.attempts[0].callId };
      });
    };
    const first = await dialOne('+14155550316');
    expect(first.disposition).toBe('v1');
    expect((await gw.api(`/v1/calls/${first.callId}`)).body.call).toMatchObject({ flowId: 'pin-test', flowVersion: 1 });

    const missing = await gw.api(`/v1/campaigns/${c.id}`, { method: 'PATCH', body: { flowVersion: 99 } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('flowVersion');
    // An explicit update follows the redeploy: null asks for the latest version now.
    const updated = await gw.api(`/v1/campaigns/${c.id}`, { method: 'PATCH', body: { flowVersion: null } });
    expect(updated.body).toMatchObject({ state: 'running', flowVersion: 2 });
    const second = await dialOne('+14155550326');
    expect(second.disposition).toBe('v2');
    expect((await gw.api(`/v1/calls/${second.callId}`)).body.call).toMatchObject({ flowVersion: 2 });

    const events = (await gw.api(`/v1/campaigns/${c.id}/events`)).body.events as Array<{ type: string; data: Record<string, unknown> }>;
    expect(events.find((e) => e.type === 'start')?.data).toMatchObject({ flowVersion: 1 });
    expect(events.find((e) => e.type === 'updated')?.data).toMatchObject({ flowVersion: 2 });
    // A campaign may also be created on a named version.
    const named = await gw.api('/v1/campaigns', { body: { ...base, name: 'named', flowId: 'pin-test', flowVersion: 1 } });
    expect(named.body.flowVersion).toBe(1);
  }, 90_000);
});
