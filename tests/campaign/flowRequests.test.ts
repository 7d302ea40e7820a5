// What a flow can ask of the campaign: a callback at a time (`set` callbackAt) and an opt-out (the
// `optOut` node), which puts the number on the do-not-call list for every campaign.
import { describe, expect, it } from 'vitest';
import { validateFlow } from '../../src/flow/validate.ts';
import { testDatabases } from '../helpers/db.ts';
import { middayZone, simGatewayForSuite, waitFor } from './harness.ts';

const FLOW = {
  id: 'campaign-requests',
  start: 'detect',
  nodes: {
    detect: { type: 'amd', timeoutMs: 8000, human: 'route', machine: 'bye', unknown: 'route' },
    route: { type: 'branch', conditions: [{ when: "vars.mode == 'optout'", next: 'stop' }], default: 'later' },
    stop: { type: 'optOut', next: 'ok' },
    ok: { type: 'say', text: 'You will not be called again.', next: 'bye' },
    later: { type: 'set', values: { callbackAt: '{{vars.when}}' }, next: 'soon' },
    soon: { type: 'say', text: 'We will call you back.', next: 'bye' },
    bye: { type: 'hangup' },
  },
};

describe('the optOut node', () => {
  it('is a valid node whose next must exist', () => {
    expect(validateFlow(FLOW).errors).toEqual([]);
    const broken = { ...FLOW, nodes: { ...FLOW.nodes, stop: { type: 'optOut', next: 'missing' } } };
    expect(JSON.stringify(validateFlow(broken))).toContain('missing');
  });
});

describe.each(testDatabases())('flow requests to the campaign (%s)', (kind) => {
  const h = simGatewayForSuite(kind);

  it('reschedules a contact for the callback time the flow set, and lists an opt-out for every campaign', async () => {
    const { gw, sim } = h;
    expect((await gw.api('/v1/flows', { body: FLOW })).status).toBeLessThan(300);
    const zone = middayZone();
    const c = (await gw.api('/v1/campaigns', { body: { name: 'requests', flowId: 'campaign-requests', callerIds: ['+14155550100'], timezone: zone, pacing: { callsPerMinute: 600, callsPerHour: 10000 } } })).body;
    const when = new Date(Date.now() + 2 * 3600_000).toISOString();
    const report = await gw.api(`/v1/campaigns/${c.id}/contacts`, {
      body: { contacts: [{ phone: '+14155550386', timezone: zone, variables: { mode: 'optout' } }, { phone: '+14155550396', timezone: zone, variables: { mode: 'later', when } }] },
    });
    expect(report.body.accepted).toBe(2);
    await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' });
    const contacts = await waitFor('both calls settled', async () => {
      const all = (await gw.api(`/v1/campaigns/${c.id}/contacts`)).body.contacts as Array<{ id: string; phone: string; state: string; disposition: string | null; nextAttemptAt: string; attempts: number }>;
      return all.every((x) => x.attempts === 1 && x.state !== 'dialing') ? all : undefined;
    });
    const optedOut = contacts.find((x) => x.phone === '+14155550386');
    const detail = (await gw.api(`/v1/campaigns/${c.id}/contacts/${optedOut?.id}`)).body;
    const call = (await gw.api(`/v1/calls/${detail.attempts[0]?.callId}`)).body;
    expect(detail.contact, JSON.stringify({ attempts: detail.attempts, events: call.events?.map((e: { type: string }) => e.type) })).toMatchObject({ state: 'do-not-call', disposition: 'do-not-call' });
    expect(contacts.find((x) => x.phone === '+14155550396')).toMatchObject({ state: 'queued', disposition: 'callback', nextAttemptAt: when });
    const listed = (await gw.api('/v1/dnc/%2B14155550386')).body;
    expect(listed).toMatchObject({ listed: true, entry: { source: 'flow' } });
    expect(sim.log.filter((d) => d.to === '+14155550386')).toHaveLength(1);
    await gw.api(`/v1/campaigns/${c.id}/stop`, { method: 'POST' });
  });

  it('counts a person who heard nothing as abandoned and pauses the campaign above its abandon limit', async () => {
    const { gw, sim } = h;
    const silent = {
      id: 'campaign-silent',
      start: 'detect',
      nodes: {
        detect: { type: 'amd', timeoutMs: 8000, human: 'wait', machine: 'bye', unknown: 'wait' },
        wait: { type: 'gather', input: ['dtmf'], noInputTimeoutMs: 4000, retries: 0, next: 'bye', noInput: 'bye' },
        bye: { type: 'hangup' },
      },
    };
    expect((await gw.api('/v1/flows', { body: silent })).status).toBeLessThan(300);
    const zone = middayZone();
    const c = (await gw.api('/v1/campaigns', { body: { name: 'abandon', flowId: 'campaign-silent', callerIds: ['+14155550100'], timezone: zone, abandonRateLimit: 3, pacing: { callsPerMinute: 4, callsPerHour: 100 } } })).body;
    await gw.api(`/v1/campaigns/${c.id}/contacts`, { body: { contacts: ['+14155550486', '+14155550496', '+14155550476'].map((phone) => ({ phone, timezone: zone })) } });
    await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' });
    const paused = await waitFor('the campaign to pause itself', async () => {
      const got = (await gw.api(`/v1/campaigns/${c.id}`)).body;
      return got.state === 'paused' ? got : undefined;
    });
    expect(paused.stateReason).toMatch(/abandon rate 100\.0% \(1 of 1 live answers in 30 days\) is above the limit of 3%/);
    const stats = (await gw.api(`/v1/campaigns/${c.id}/stats`)).body;
    expect(stats).toMatchObject({ abandoned30d: 1, liveAnswers30d: 1, abandonRate30d: 1, attempts: { abandoned: 1 } });
    const events = (await gw.api(`/v1/campaigns/${c.id}/events`)).body.events as Array<{ type: string; actor: string }>;
    expect(events.at(-1)).toMatchObject({ type: 'pause', actor: 'system' });
    // Paused at once: the other two were never dialed.
    expect(sim.log.filter((d) => ['+14155550486', '+14155550496', '+14155550476'].includes(d.to))).toHaveLength(1);
  });
});
