// What the call path writes beyond its start and end reaches the record through the durable path:
// the AMD verdict (issue 10, item 3: CallStore.setAmd was never called), and carrier status callbacks
// that arrive while the database is down or before the call's record exists (issue 16, item 10).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import type { CallStarter } from '../../src/app.ts';
import { attachDetectors, defaultDetectorOptions } from '../../src/call/detectors.ts';
import { amdOutcomeOf } from '../../src/gateway/amdRecord.ts';
import { replayCall } from '../../src/replay/client.ts';
import { computeSignature } from '../../src/telephony/signature.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const MACHINE = new URL('../../fixtures/amd/machine_beep1000hz_115ms-synthetic_en-us-f2_-27dB_snr20hum50.wav', import.meta.url);

describe('the AMD verdict on the call record', () => {
  let gw: TestGateway;
  // Detectors only (the outbound default): the call runs until the caller's audio ends.
  const program: CallStarter = {
    start(session) {
      const detach = attachDetectors(session, defaultDetectorOptions(session.direction));
      session.signal.addEventListener('abort', detach, { once: true });
    },
    resolveFlowId: async () => '',
  };
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { program });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('fills amdResult, amdAnsweredBy, amdConfidence and amdDecisionMs from the detector', async () => {
    const result = await replayCall({
      carrier: 'twilio',
      audio: decodeWav(readFileSync(MACHINE)),
      url: gw.wsUrl,
      publicUrl: PUBLIC_URL,
      speed: 10,
      holdMs: 500,
      webhook: { url: `${gw.httpUrl}/voice/twilio`, params: { Direction: 'outbound-api' } },
    });
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    const events = await gw.eventLog.listEvents(result.callId ?? '');
    const verdict = events.find((e) => e.type === 'amd.verdict') as { result: string; answeredBy: string; confidence: number; atMs: number } | undefined;
    expect(verdict).toBeDefined();
    const call = await gw.calls.get(result.callId ?? '');
    expect(call).toMatchObject({ direction: 'outbound', amdResult: verdict?.result, amdAnsweredBy: verdict?.answeredBy, amdConfidence: verdict?.confidence, amdDecisionMs: Math.round(verdict?.atMs ?? -1) });
    expect(call?.amdResult).toBe('machine');
  }, 60_000);

  it('takes the detector\'s later revisions (amd.revised) as well, and nothing else', () => {
    const revised = { type: 'amd.revised', atMs: 4210, result: 'human', answeredBy: 'human', confidence: 0.81, reason: 'speech after silence' };
    expect(amdOutcomeOf(revised as never)).toEqual({ result: 'human', answeredBy: 'human', confidence: 0.81, decisionMs: 4210 });
    expect(amdOutcomeOf({ type: 'speech.started', atMs: 10 })).toBeUndefined();
  });
});

describe('status callbacks', () => {
  let gw: TestGateway;
  const AUTH_TOKEN = 'test-auth-token-0123456789';
  const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { env: { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const post = (url: string, p: Record<string, string>) =>
    gw.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(AUTH_TOKEN, `${PUBLIC_URL}${url}`, p) }, payload: new URLSearchParams(p).toString() });

  it('are acknowledged while the database refuses connections, and applied once it is back', async () => {
    const sid = 'CA30000000000000000000000000000001';
    expect((await post('/voice/twilio', { CallSid: sid, AccountSid: ACCOUNT_SID, From: '+14155550100', To: '+14155550199' })).statusCode).toBe(200);
    const pool = gw.tdb.db.pool;
    const query = pool.query.bind(pool);
    (pool as unknown as { query: unknown }).query = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    try {
      for (const s of ['in-progress', 'completed']) expect((await post('/status/twilio', { CallSid: sid, AccountSid: ACCOUNT_SID, CallStatus: s })).statusCode).toBe(204);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      (pool as unknown as { query: unknown }).query = query;
    }
    await gw.app.gateway.settle();
    const call = await gw.calls.findByCarrierCallId('twilio', sid);
    expect(call).toMatchObject({ status: 'completed', endReason: 'completed' });
    expect(call?.answeredAt).not.toBeNull();
  });

  it('that arrive before the call is recorded are applied once it is', async () => {
    const sid = 'CA30000000000000000000000000000002';
    expect((await post('/status/twilio', { CallSid: sid, AccountSid: ACCOUNT_SID, CallStatus: 'completed' })).statusCode).toBe(204);
    await new Promise((r) => setTimeout(r, 200));
    // The record is written later (by this instance's webhook, or another instance's).
    await gw.calls.create({ carrier: 'twilio', carrierCallId: sid, direction: 'inbound', fromNumber: '+14155550100', toNumber: '+14155550199' });
    await gw.app.gateway.settle();
    expect(await gw.calls.findByCarrierCallId('twilio', sid)).toMatchObject({ status: 'completed', endReason: 'completed' });
    // An unknown status is still a 400 at once.
    expect((await post('/status/twilio', { CallSid: sid, AccountSid: ACCOUNT_SID, CallStatus: 'exploded' })).statusCode).toBe(400);
  });
});
