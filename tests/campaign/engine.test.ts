// Faults, at the engine: a carrier timeout after the request was sent makes the outcome unknown and
// is never redialed; a lost instance's claims are reconciled (never-sent ones requeued, possibly-sent
// ones held for review); a placed call whose end never arrived is asked of the carrier.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDue } from '../../src/campaign/dialQueue.ts';
import { CampaignEngine } from '../../src/campaign/engine.ts';
import { resolveReview } from '../../src/campaign/review.ts';
import { importJson } from '../../src/campaign/import.ts';
import { defaultSettings } from '../../src/campaign/settings.ts';
import { CampaignStore } from '../../src/campaign/store.ts';
import { startSimulator, type Simulator } from '../../src/sim/server.ts';
import { CallStore } from '../../src/store/calls.ts';
import { CarrierRestClient } from '../../src/telephony/rest.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';
import { ACCOUNT_SID, AUTH_TOKEN, middayZone, waitFor } from './harness.ts';

describe.each(testDatabases())('campaign engine faults (%s)', (kind) => {
  let t: TestDatabase;
  let sim: Simulator;
  let engine: CampaignEngine | undefined;
  let now = new Date();
  beforeEach(async () => {
    t = await openTestDatabase(kind);
    sim = await startSimulator({ accounts: { [ACCOUNT_SID]: AUTH_TOKEN }, speed: 50 });
    now = new Date();
  });
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
    await sim.close();
    await t.cleanup();
  });

  const setup = async (phones: string[], timeoutMs = 2000) => {
    const store = new CampaignStore(t.db.pool);
    const calls = new CallStore(t.db.pool);
    const settings = { ...defaultSettings(), callerIds: ['+14155550100'], timezone: middayZone(), pacing: { maxConcurrent: 10, callsPerMinute: 600, callsPerHour: 10000, ramp: null } };
    const campaign = await store.create({ name: 'faults', flowId: 'campaign-test', flowVersion: null, carrier: 'twilio', settings }, 'test');
    await importJson(t.db.pool, phones.map((phone) => ({ phone, timezone: middayZone() })), { campaignId: campaign.id, defaultCountry: 'US', campaignTimezone: middayZone() });
    await store.transition(campaign.id, 'start', 'test');
    now = new Date(Date.now() + 1000);
    const client = new CarrierRestClient({ carrier: 'twilio', accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, baseUrl: sim.baseUrl, timeoutMs });
    engine = new CampaignEngine({
      pool: t.db.pool,
      calls,
      clients: { twilio: client },
      config: { publicUrl: new URL('https://gateway.test'), carriers: { twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl: sim.baseUrl } } },
      streamTokenSecret: 's'.repeat(32),
      instanceId: 'survivor',
      log: pino({ level: 'silent' }),
      accountCps: 100,
      now: () => now,
    });
    return { store, calls, campaign, engine };
  };

  it('a carrier timeout after sending is an unknown outcome, held for review and never redialed', async () => {
    const { store, campaign, engine: e } = await setup(['+12125550106'], 300);
    sim.setCreateLatency(800);
    await e.tick();
    await e.settleDials();
    for (let i = 0; i < 5; i++) {
      now = new Date(now.getTime() + 60_000);
      await e.tick();
      await e.settleDials();
    }
    expect(sim.log).toHaveLength(1);
    const [contact] = (await store.listContacts(campaign.id, { limit: 10 })).contacts;
    expect(contact).toMatchObject({ state: 'review', disposition: 'unknown', attempts: 1, lastOutcome: 'unknown' });
  });

  it('a contact in review is requeued once, and never dialed while its unknown call may still be live', async () => {
    const { store, campaign, engine: e } = await setup(['+12125550106'], 300);
    await store.update(campaign.id, { settings: { ringTimeoutS: 5, maxCallS: 30 } }, 'test', () => undefined);
    sim.setCreateLatency(800);
    await e.tick();
    await e.settleDials();
    sim.setCreateLatency(0);
    const [contact] = (await store.listContacts(campaign.id, { state: 'review', limit: 10 })).contacts;
    expect(contact?.state).toBe('review');
    const id = contact?.id ?? '';
    // Two supervisors resolve it at once: one wins, the other is told it is no longer in review.
    const results = await Promise.allSettled([
      resolveReview(t.db.pool, campaign.id, id, { action: 'requeue' }, 'user:ann'),
      resolveReview(t.db.pool, campaign.id, id, { action: 'requeue' }, 'user:bob'),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r.reason as { code?: string }).code)).toEqual(['GW_ERR_CAMPAIGN_NOT_IN_REVIEW']);
    const { contact: requeued, notBefore } = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof resolveReview>>>).value;
    // The call record never ended (the carrier never told us): not before ring time + longest call + margin.
    const { rows } = await t.db.pool.query<{ created_at: Date }>('SELECT k.created_at FROM campaign_attempts a JOIN calls k ON k.id = a.call_id');
    const overAt = (rows[0]?.created_at.getTime() ?? 0) + (5 + 30 + 60) * 1000;
    expect(Date.parse(notBefore ?? '')).toBe(overAt);
    expect(requeued).toMatchObject({ state: 'queued', nextAttemptAt: new Date(overAt).toISOString() });
    now = new Date(overAt - 1000);
    await e.tick();
    await e.settleDials();
    expect(sim.log).toHaveLength(1);
    now = new Date(overAt + 1000);
    for (let i = 0; i < 3; i++) {
      await e.tick();
      await e.settleDials();
    }
    expect(sim.log).toHaveLength(2);
    const events = (await store.events(campaign.id, { limit: 50 })).events.filter((x) => x.type === 'contact.resolved');
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ contactId: id, action: 'requeue' });
  });

  it('reconciles a lost instance: never-sent claims are due again, a possibly-sent one waits for review', async () => {
    const { store, calls, campaign, engine: e } = await setup(['+12125550106', '+12125550116', '+12125550126']);
    const claim = await claimDue(t.db.pool, { campaignId: campaign.id, accountKey: `twilio:${ACCOUNT_SID}`, accountCps: 100, instanceId: 'dead', now });
    expect(claim.dials).toHaveLength(3);
    // The dead instance had written one call's record (so it may have asked the carrier) and no more.
    const sent = claim.dials[0];
    await calls.create({ id: sent?.callId, carrier: 'twilio', direction: 'outbound', fromNumber: '+14155550100', toNumber: sent?.phone ?? '', status: 'queued' });
    expect(await e.reconcileLostInstance('dead')).toEqual({ requeued: 2, unknown: 1, linked: 0 });
    const contacts = (await store.listContacts(campaign.id, { limit: 10 })).contacts;
    expect(contacts.filter((c) => c.state === 'queued' && c.attempts === 0)).toHaveLength(2);
    expect(contacts.find((c) => c.phone === sent?.phone)).toMatchObject({ state: 'review' });
    // The survivor dials the requeued two, and only them.
    await e.tick();
    await e.settleDials();
    expect(sim.log.map((d) => d.to).sort()).toEqual(claim.dials.slice(1).map((d) => d.phone).sort());
  });

  it('asks the carrier about a placed call whose end never arrived', async () => {
    const { calls, campaign, store, engine: e } = await setup(['+12125550102']);
    await store.update(campaign.id, { settings: { ringTimeoutS: 5, maxCallS: 30 } }, 'test', () => undefined);
    await e.tick();
    await e.settleDials();
    expect(sim.log).toHaveLength(1);
    // The simulator's status callbacks go nowhere (no gateway here): the call row never ends by itself.
    await waitFor('the simulated call to end', async () => ([...sim.calls.values()][0]?.status === 'no-answer' ? true : undefined));
    const attempt = (await t.db.pool.query<{ call_id: string }>('SELECT call_id FROM campaign_attempts')).rows[0];
    expect((await calls.get(attempt?.call_id ?? ''))?.endedAt).toBeNull();
    // Unanswered: asked of the carrier once its ring time and a margin have passed, not after the longest call.
    now = new Date(now.getTime() + (5 + 21) * 1000 + 5000);
    await e.tick();
    await e.tick();
    const call = await calls.get(attempt?.call_id ?? '');
    expect(call).toMatchObject({ status: 'no-answer' });
    const [contact] = (await store.listContacts(campaign.id, { limit: 10 })).contacts;
    expect(contact).toMatchObject({ lastOutcome: 'no-answer', state: 'queued' });
  });
});
