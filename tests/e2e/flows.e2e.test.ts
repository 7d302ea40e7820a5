// Issue 4's end-to-end path: flows deployed through the REST API, numbers routed to them, calls
// replayed through both carrier dialects (with DTMF and with voicemail audio), transfers and hang-ups
// through a fake carrier REST API that checks Basic auth, and outbound calls placed with POST /v1/calls
// whose AMD routes a voicemail to the voicemail node and a person to the greeting — on both databases.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall, type ReplayOptions } from '../../src/replay/client.ts';
import { carrierSid } from '../../src/replay/ids.ts';
import type { Carrier } from '../../src/call/events.ts';
import { testDatabases } from '../helpers/db.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startFakeCarrier, type FakeCarrier } from '../fakes/carrier.ts';

const TWILIO = { sid: 'AC0123456789abcdef0123456789abcdef', token: 'twilio-test-token-0123' };
const SIGNALWIRE = { project: '6b1f2a44-0000-4000-8000-00000000cafe', token: 'PTsignalwiretesttoken' };
const flowJson = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../flows/${name}.json`, import.meta.url), 'utf8'));
const wav = (path: string) => decodeWav(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url)));

type TimelineEvent = { seq: number; type: string; atMs: number; data?: Record<string, unknown>; result?: string; digit?: string; label?: string };

describe.each(testDatabases())('flows end to end on %s', (kind) => {
  let gw: TestGateway;
  let carrier: FakeCarrier;

  beforeAll(async () => {
    carrier = await startFakeCarrier({ [TWILIO.sid]: TWILIO.token, [SIGNALWIRE.project]: SIGNALWIRE.token });
    gw = await startTestGateway(kind, {
      env: {
        TWILIO_ACCOUNT_SID: TWILIO.sid,
        TWILIO_AUTH_TOKEN: TWILIO.token,
        TWILIO_API_BASE_URL: carrier.baseUrl,
        SIGNALWIRE_PROJECT_ID: SIGNALWIRE.project,
        SIGNALWIRE_API_TOKEN: SIGNALWIRE.token,
        SIGNALWIRE_API_BASE_URL: `${carrier.baseUrl}/api/laml`,
        HOST: '127.0.0.1',
      },
    });
    for (const name of ['ivr-menu', 'outbound-reminder', 'support-agent']) {
      const res = await gw.api('/v1/flows', { body: flowJson(name) });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
    // Sales is always open (no hours = always); the IVR's number routes to the IVR flow.
    expect((await gw.api('/v1/departments/sales', { method: 'PUT', body: { numbers: ['+14155550123'], timeZone: 'America/New_York' } })).status).toBeLessThan(300);
    expect((await gw.api(`/v1/numbers/${encodeURIComponent('+15005550001')}`, { method: 'PUT', body: { flowId: 'ivr-menu' } })).status).toBeLessThan(300);
  });
  afterAll(async () => {
    await gw?.close();
    await carrier?.close();
  });

  const timeline = async (callId: string | undefined): Promise<{ call: Record<string, unknown>; events: TimelineEvent[] }> => {
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    const res = await gw.api(`/v1/calls/${callId}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const entered = (events: TimelineEvent[]) => events.filter((e) => e.type === 'flow.node.entered').map((e) => e.data?.node);
  const signing = (c: Carrier): Pick<ReplayOptions, 'authToken' | 'publicUrl'> => ({ authToken: c === 'twilio' ? TWILIO.token : SIGNALWIRE.token, publicUrl: PUBLIC_URL });

  for (const c of ['twilio', 'signalwire'] as const) {
    it(`${c}: the IVR menu routes a key press to the sales transfer through the carrier API`, async () => {
      const before = carrier.requests.length;
      // The carrier knows the inbound call it is bridging (so it can be transferred).
      const callSid = carrierSid(c, 'call');
      carrier.calls.set(callSid, { sid: callSid, accountSid: c === 'twilio' ? TWILIO.sid : SIGNALWIRE.project, to: '+15005550001', from: '+15005550006', url: undefined, twiml: undefined, status: 'in-progress', statusCallback: undefined, statusCallbackEvent: [], machineDetection: undefined, timeoutS: undefined, updates: [] });
      const result = await replayCall({
        carrier: c,
        callSid,
        ...signing(c),
        audio: wav('speech/hello.wav'),
        url: gw.wsUrl,
        to: '+15005550001',
        speed: 5,
        holdMs: 60_000,
        dtmf: [{ digit: '1', atMs: 3000 }],
      });
      const { call, events } = await timeline(result.callId);
      expect(result.endReason).toBe('gateway-closed');
      expect(call).toMatchObject({ flowId: 'ivr-menu', flowVersion: 1 });
      expect(entered(events)).toEqual(['welcome', 'menu', 'route', 'sales']);
      expect(events.find((e) => e.type === 'dtmf')?.digit).toBe('1');
      const prompts = events.filter((e) => e.type === 'flow.prompt').map((e) => e.data?.text);
      expect(prompts[0]).toBe('Thank you for calling Acme.');
      // The transfer went to the carrier as a <Dial> of the department's number, with Basic auth.
      const update = carrier.requests.slice(before).find((r) => r.method === 'POST' && /Calls\/[^/]+\.json$/.test(r.path) && typeof r.params.Twiml === 'string');
      expect(update?.authorized).toBe(true);
      expect(String(update?.params.Twiml)).toContain('<Number>+14155550123</Number>');
      expect(update?.path).toContain(result.carrierCallId);
    });
  }

  it('outbound: POST /v1/calls places the call; AMD sends a voicemail greeting to the voicemail drop after the beep', async () => {
    const placed = await gw.api('/v1/calls', { body: { to: '+14155550142', from: '+15005550006', flowId: 'outbound-reminder', variables: { contact: { firstName: 'Ada' } } } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const fake = carrier.calls.get(placed.body.carrierCallId);
    // Our id and the call's signed context (placedContext.ts), on the webhook and the status callback alike.
    expect(fake?.url).toMatch(new RegExp(`^${PUBLIC_URL}/voice/twilio\\?callId=${placed.body.id}&ctx=[A-Za-z0-9_.-]+$`));
    expect(fake?.statusCallback).toBe(fake?.url?.replace('/voice/', '/status/'));
    const result = await replayCall({
      carrier: 'twilio',
      ...signing('twilio'),
      webhook: { url: (fake?.url ?? "").replace(PUBLIC_URL, gw.httpUrl) ?? '', params: { Direction: 'outbound-api' } },
      callSid: placed.body.carrierCallId,
      audio: wav('speech/voicemail_beep.wav'),
      url: gw.wsUrl,
      to: '+14155550142',
      from: '+15005550006',
      speed: 5,
      holdMs: 60_000,
    });
    expect(result.callId).toBe(placed.body.id);
    const { call, events } = await timeline(result.callId);
    expect(call).toMatchObject({ direction: 'outbound', flowId: 'outbound-reminder' });
    const verdict = events.find((e) => e.type === 'amd.verdict');
    expect(verdict?.result).toBe('machine');
    expect(entered(events)).toEqual(['detect', 'leave_voicemail']);
    const beep = events.find((e) => e.type === 'beep');
    const message = events.find((e) => e.type === 'playout.started' && String(e.label).includes('leave_voicemail'));
    expect(beep).toBeDefined();
    expect(message?.atMs).toBeGreaterThanOrEqual(beep?.atMs ?? Infinity);
    expect(events.some((e) => e.type === 'flow.prompt' && String(e.data?.text).startsWith('Hello Ada, this is Acme Dental'))).toBe(true);
    // The flow hung up through the carrier API.
    expect(carrier.requests.some((r) => r.path.includes(placed.body.carrierCallId) && r.params.Status === 'completed')).toBe(true);
  });

  it('outbound with amd: false runs no answering-machine detection (the amd node times out to its unknown exit)', async () => {
    const placed = await gw.api('/v1/calls', { body: { to: '+14155550145', from: '+15005550006', flowId: 'outbound-reminder', amd: false } });
    expect(placed.status).toBe(201);
    const fake = carrier.calls.get(placed.body.carrierCallId);
    const result = await replayCall({
      carrier: 'twilio',
      ...signing('twilio'),
      webhook: { url: (fake?.url ?? '').replace(PUBLIC_URL, gw.httpUrl), params: { Direction: 'outbound-api' } },
      callSid: placed.body.carrierCallId,
      audio: wav('speech/voicemail_beep.wav'),
      url: gw.wsUrl,
      speed: 5,
      holdMs: 12_000,
    });
    const { events } = await timeline(result.callId);
    expect(events.some((e) => e.type === 'amd.verdict')).toBe(false);
    expect(entered(events).slice(0, 2)).toEqual(['detect', 'greet']);
  });

  it('outbound: a person who answers hears the greeting, and a busy status callback ends another call with that reason', async () => {
    const placed = await gw.api('/v1/calls', { body: { to: '+14155550143', from: '+15005550006', flowId: 'outbound-reminder' } });
    expect(placed.status).toBe(201);
    const fake = carrier.calls.get(placed.body.carrierCallId);
    const result = await replayCall({
      carrier: 'twilio',
      ...signing('twilio'),
      webhook: { url: (fake?.url ?? "").replace(PUBLIC_URL, gw.httpUrl) ?? '', params: { Direction: 'outbound-api' } },
      callSid: placed.body.carrierCallId,
      audio: wav('speech/human_hello.wav'),
      url: gw.wsUrl,
      speed: 5,
      holdMs: 10_000,
    });
    const { events } = await timeline(result.callId);
    expect(events.find((e) => e.type === 'amd.verdict')?.result).toBe('human');
    expect(entered(events).slice(0, 2)).toEqual(['detect', 'greet']);

    const busy = await gw.api('/v1/calls', { body: { to: '+14155550144', from: '+15005550006', flowId: 'outbound-reminder' } });
    const { computeSignature } = await import('../../src/telephony/signature.ts');
    const params = { CallSid: busy.body.carrierCallId, AccountSid: TWILIO.sid, CallStatus: 'busy' };
    const res = await fetch(`${gw.httpUrl}/status/twilio`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(TWILIO.token, `${PUBLIC_URL}/status/twilio`, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(204);
    const ended = await gw.api(`/v1/calls/${busy.body.id}`);
    expect(ended.body.call).toMatchObject({ status: 'busy', endReason: 'busy' });
  });
});
