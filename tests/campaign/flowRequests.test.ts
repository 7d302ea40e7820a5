// What a flow can ask of the campaign: a callback at a time (`set` callbackAt) and an opt-out (the
// `optOut` node), which puts the number on the do-not-call list for every campaign.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateFlow } from '../../src/flow/validate.ts';
import { testDatabases } from '../helpers/db.ts';
import { middayZone, startSimGateway, waitFor, type SimGateway } from './harness.ts';

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
  let h: SimGateway;
  beforeAll(async () => {
    h = await startSimGateway(kind);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

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
      const all = (await gw.api(`/v1/campaigns/${c.id}/contacts`)).body.contacts as Array<{ phone: string; state: string; disposition: string | null; nextAttemptAt: string; attempts: number }>;
      return all.every((x) => x.attempts === 1 && x.state !== 'dialing') ? all : undefined;
    });
    expect(contacts.find((x) => x.phone === '+14155550386')).toMatchObject({ state: 'do-not-call', disposition: 'do-not-call' });
    expect(contacts.find((x) => x.phone === '+14155550396')).toMatchObject({ state: 'queued', disposition: 'callback', nextAttemptAt: when });
    const listed = (await gw.api('/v1/dnc/%2B14155550386')).body;
    expect(listed).toMatchObject({ listed: true, entry: { source: 'flow' } });
    expect(sim.log.filter((d) => d.to === '+14155550386')).toHaveLength(1);
    await gw.api(`/v1/campaigns/${c.id}/stop`, { method: 'POST' });
  });
});
