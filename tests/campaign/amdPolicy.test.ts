// The campaign's voicemail policy on the AMD verdict, its revision and its confidence: the decision
// table, a human verdict revised to machine switching to the machine branch, and end to end against
// the carrier simulator, an unsure machine verdict leaving the campaign's message after the beep
// instead of hanging up (the flow's own voicemail branch is taken over).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/call/events.ts';
import { amdAction, applyCampaignPolicy, applyCampaignPolicyWhenRead, campaignOf, type CampaignCallMetadata, type PolicyCall } from '../../src/campaign/callPolicy.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { testDatabases } from '../helpers/db.ts';
import { openZone, startSimGateway, waitFor, type SimGateway } from './harness.ts';

const policy = (over: Partial<CampaignCallMetadata> = {}): CampaignCallMetadata => ({ id: 'c', voicemailPolicy: 'hangup', hangupConfidence: 0.9, dropMessage: 'Please call us back.', ...over });

/** A call as the policy sees it: events delivered to its listeners, hang-ups and emits recorded. */
class PolicyCallDouble implements PolicyCall {
  readonly listeners = new Set<(e: CallEvent) => void>();
  readonly emitted: CallEvent[] = [];
  readonly hangups: string[] = [];
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  subscribe(listener: (e: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  deliver(e: CallEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
  async hangup(reason: string): Promise<void> {
    this.hangups.push(reason);
  }
  emit(e: CallEvent): void {
    this.emitted.push(e);
  }
  mediaMs(): number {
    return 4000;
  }
}

const verdict = (result: 'human' | 'machine', confidence: number, atMs = 2000): CallEvent => ({ type: 'amd.verdict', atMs, result, answeredBy: result === 'human' ? 'human' : 'machine_start', confidence, reason: 'test' });
const revised = (confidence: number): CallEvent => ({ type: 'amd.revised', atMs: 3500, result: 'machine', answeredBy: 'machine_end_beep', confidence, reason: 'beep', previous: 'human' });

describe('campaign AMD policy', () => {
  it('decides on the verdict and its confidence', () => {
    expect(amdAction(policy(), 'machine', 0.95)).toBe('hangup');
    expect(amdAction(policy(), 'machine', 0.9)).toBe('hangup');
    expect(amdAction(policy(), 'machine', 0.7)).toBe('drop');
    expect(amdAction(policy({ dropMessage: null }), 'machine', 0.7)).toBe('flow');
    expect(amdAction(policy({ hangupConfidence: 0.6 }), 'machine', 0.7)).toBe('hangup');
    expect(amdAction(policy(), 'human', 0.99)).toBe('none');
    expect(amdAction(policy(), 'fax', 0.5)).toBe('hangup');
    expect(amdAction(policy({ voicemailPolicy: 'drop' }), 'machine', 0.99)).toBe('drop');
    expect(amdAction(policy({ voicemailPolicy: 'continue' }), 'machine', 0.99)).toBe('none');
    // Calls placed before the confidence settings existed read the defaults.
    expect(campaignOf({ campaign: { id: 'c', voicemailPolicy: 'hangup' } })).toEqual({ id: 'c', voicemailPolicy: 'hangup', hangupConfidence: 0.9, dropMessage: null });
  });

  it('switches to the machine branch when a human verdict is revised to machine', async () => {
    const sure = new PolicyCallDouble();
    const left: FlowDefinition[] = [];
    applyCampaignPolicy(sure, policy(), { leaveMessage: async (f) => left.push(f), onError: (err) => expect.fail(String(err)) });
    sure.deliver(verdict('human', 0.8));
    expect(sure.hangups).toEqual([]);
    sure.deliver(revised(0.97));
    expect(sure.hangups).toEqual(['campaign_machine_hangup']);
    expect(sure.emitted).toMatchObject([{ type: 'flow.campaign.amd_action', data: { action: 'hangup', revised: true, confidence: 0.97 } }]);
    // Acts once: nothing listens any more.
    expect(sure.listeners.size).toBe(0);

    const unsure = new PolicyCallDouble();
    applyCampaignPolicy(unsure, policy(), { leaveMessage: async (f) => left.push(f), onError: (err) => expect.fail(String(err)) });
    unsure.deliver(verdict('human', 0.8));
    unsure.deliver(revised(0.75));
    expect(unsure.hangups).toEqual([]);
    expect(left).toHaveLength(1);
    expect(left[0]?.nodes.drop).toMatchObject({ type: 'voicemail', text: 'Please call us back.' });
    expect(unsure.emitted).toMatchObject([{ data: { action: 'drop', revised: true } }]);
  });

  it('acts on a verdict given while the campaign settings were still being read from the call record', async () => {
    // A fast machine on a loaded database: the verdict comes before the record does.
    const call = new PolicyCallDouble();
    let resolve: (c: CampaignCallMetadata | undefined) => void = () => {};
    applyCampaignPolicyWhenRead(call, new Promise((r) => (resolve = r)), { leaveMessage: async () => undefined, onError: (err) => expect.fail(String(err)) });
    call.deliver(verdict('human', 0.8));
    call.deliver(revised(0.97));
    expect(call.hangups).toEqual([]);
    resolve(policy());
    await new Promise((r) => setImmediate(r));
    expect(call.hangups).toEqual(['campaign_machine_hangup']);
    expect(call.emitted).toMatchObject([{ type: 'flow.campaign.amd_action', data: { action: 'hangup', revised: true } }]);
    expect(call.listeners.size).toBe(0);

    // Read before any verdict: the policy listens on.
    const later = new PolicyCallDouble();
    const left: FlowDefinition[] = [];
    applyCampaignPolicyWhenRead(later, Promise.resolve(policy()), { leaveMessage: async (f) => left.push(f), onError: (err) => expect.fail(String(err)) });
    await new Promise((r) => setImmediate(r));
    later.deliver(verdict('machine', 0.7));
    expect(left).toHaveLength(1);

    // Not a campaign call: nothing listens once the record says so.
    const plain = new PolicyCallDouble();
    applyCampaignPolicyWhenRead(plain, Promise.resolve(undefined), { leaveMessage: async () => expect.fail('no campaign'), onError: (err) => expect.fail(String(err)) });
    await new Promise((r) => setImmediate(r));
    expect(plain.listeners.size).toBe(0);
  });
});

describe.each(testDatabases())('campaign AMD policy on a call (%s)', (kind) => {
  let h: SimGateway;
  beforeAll(async () => {
    // The message is synthesized when it is left (its template names the contact): on a loaded machine
    // that takes wall time the 5× simulated voicemail would not wait, so it records for 2 minutes.
    h = await startSimGateway(kind, { sim: { holdMs: 120_000 } });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('leaves the campaign message after the beep when the machine verdict is below the hang-up confidence', async () => {
    const { gw } = h;
    const c = (await gw.api('/v1/campaigns', {
      body: {
        name: 'unsure machines',
        flowId: 'campaign-test',
        callerIds: ['+14155550100'],
        timezone: 'UTC',
        window: { start: '00:00', end: '24:00' },
        voicemailPolicy: 'hangup',
        // No verdict is surer than 1: every machine here is "unsure".
        amd: { hangupConfidence: 1, dropMessage: 'Hello {{contact.name}}, this is the clinic. Please call us back.' },
      },
    })).body;
    expect(c.amd).toMatchObject({ enabled: true, hangupConfidence: 1 });
    await gw.api(`/v1/campaigns/${c.id}/contacts`, { body: { contacts: [{ phone: '+14155550284', name: 'Vi', timezone: openZone() }] } });
    await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' });
    const contact = await waitFor('the contact to be done', async () => {
      const list = (await gw.api(`/v1/campaigns/${c.id}/contacts?state=done`)).body.contacts as Array<{ id: string }>;
      return list[0];
    });
    const { attempts } = (await gw.api(`/v1/campaigns/${c.id}/contacts/${contact.id}`)).body;
    expect(attempts[0]).toMatchObject({ outcome: 'voicemail-dropped', voicemailLeft: true, amdResult: 'machine', detail: { amdAction: { action: 'drop', result: 'machine' } } });
    expect(attempts[0].detail.amdAction.confidence).toBeLessThan(1);
    const call = (await gw.api(`/v1/calls/${attempts[0].callId}?eventsLimit=500`)).body;
    const types = (call.events as Array<{ type: string; data?: Record<string, unknown> }>).map((e) => e.type);
    // The flow's own voicemail node was stopped; the campaign's message was left in its place.
    expect(types).toContain('flow.takeover');
    const left = (call.events as Array<{ type: string; data?: { node?: string; data?: { node?: string } } }>).filter((e) => e.type === 'flow.voicemail.left');
    expect(left).toHaveLength(1);
    expect(JSON.stringify(left[0])).toContain('"drop"');
    expect(JSON.stringify(call.events)).toContain('Hello Vi, this is the clinic');
  }, 90_000);
});
