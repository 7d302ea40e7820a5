// Carrier webhooks through the real app (fastify inject): signatures for form and JSON bodies,
// capacity refusal, and monotonic status callbacks.
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeBodyHash, computeSignature } from '../../src/telephony/signature.ts';
import { parseTwiml } from '../../src/telephony/twiml.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const AUTH_TOKEN = 'test-auth-token-0123456789';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const form = (p: Record<string, string>): string => new URLSearchParams(p).toString();
const callParams = (sid: string): Record<string, string> => ({ CallSid: sid, AccountSid: ACCOUNT_SID, From: '+14155550100', To: '+14155550199', Direction: 'inbound', CallStatus: 'ringing' });

describe('carrier webhooks with credentials configured', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite', {
      env: { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, SIGNALWIRE_PROJECT_ID: 'p-1', SIGNALWIRE_API_TOKEN: 'sw-token-abcdef', SIGNALWIRE_SPACE_URL: 'example.signalwire.com', MAX_CONCURRENT_CALLS: '1' },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('answers a signed Twilio voice webhook with a connect-stream TwiML carrying a call id and token', async () => {
    const params = callParams('CA00000000000000000000000000000001');
    // Signed by the official twilio package, as Twilio itself would.
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/voice/twilio`, params);
    const res = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, payload: form(params) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/xml/);
    const parsed = parseTwiml(res.body);
    const stream = parsed.stream;
    expect(stream?.url).toBe('wss://gateway.test/media/twilio');
    expect(stream?.parameters.callId).toMatch(/^[0-9a-f-]{36}$/);
    expect(stream?.parameters.token).toMatch(/^\d+\.[\w-]+$/);
    const call = await gw.calls.findByCarrierCallId('twilio', 'CA00000000000000000000000000000001');
    expect(call).toMatchObject({ id: stream?.parameters.callId, direction: 'inbound', status: 'ringing' });
  });

  it('accepts the signature on the URL with the default port, as Twilio may sign it', async () => {
    const params = callParams('CA00000000000000000000000000000002');
    const signature = computeSignature(AUTH_TOKEN, 'https://gateway.test:443/voice/twilio', params);
    const res = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, payload: form(params) });
    expect(res.statusCode).toBe(200);
  });

  it('rejects unsigned, forged and tampered webhooks with 403, and stores nothing', async () => {
    const params = callParams('CA00000000000000000000000000000003');
    const good = computeSignature(AUTH_TOKEN, `${PUBLIC_URL}/voice/twilio`, params);
    const unsigned = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(params) });
    const forged = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, payload: form(params) });
    const tampered = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': good }, payload: form({ ...params, To: '+19995550000' }) });
    expect([unsigned.statusCode, forged.statusCode, tampered.statusCode]).toEqual([403, 403, 403]);
    expect(await gw.calls.findByCarrierCallId('twilio', 'CA00000000000000000000000000000003')).toBeNull();
  });

  it('validates SignalWire webhooks with X-SignalWire-Signature, including JSON bodies (bodySHA256)', async () => {
    const params = { ...callParams('3f6c2a1e-0000-4000-8000-000000000001') };
    const sig = computeSignature('sw-token-abcdef', `${PUBLIC_URL}/voice/signalwire`, params);
    const res = await gw.app.inject({ method: 'POST', url: '/voice/signalwire', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-signalwire-signature': sig }, payload: form(params) });
    expect(res.statusCode).toBe(200);
    expect(parseTwiml(res.body).stream?.authBearerToken).toBe(parseTwiml(res.body).stream?.parameters.token);

    const body = JSON.stringify({ CallSid: '3f6c2a1e-0000-4000-8000-000000000001', CallStatus: 'in-progress' });
    const url = `/status/signalwire?bodySHA256=${computeBodyHash(body)}`;
    const jsonSig = computeSignature('sw-token-abcdef', `${PUBLIC_URL}${url}`, {});
    const ok = await gw.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-signalwire-signature': jsonSig }, payload: body });
    expect(ok.statusCode).toBe(204);
    const bad = await gw.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-signalwire-signature': jsonSig }, payload: body.replace('in-progress', 'completed') });
    expect(bad.statusCode).toBe(403);
  });

  it('applies status callbacks monotonically: a late "ringing" never moves an answered call back', async () => {
    const sid = 'CA00000000000000000000000000000004';
    const post = (status: string) => {
      const p = { CallSid: sid, AccountSid: ACCOUNT_SID, CallStatus: status };
      return gw.app.inject({ method: 'POST', url: '/status/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(AUTH_TOKEN, `${PUBLIC_URL}/status/twilio`, p) }, payload: form(p) });
    };
    const voice = callParams(sid);
    await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(AUTH_TOKEN, `${PUBLIC_URL}/voice/twilio`, voice) }, payload: form(voice) });
    for (const s of ['in-progress', 'ringing', 'completed', 'in-progress', 'no-answer']) expect((await post(s)).statusCode).toBe(204);
    await gw.app.gateway.settle(); // applied through the durable call-write path, in order
    const call = await gw.calls.findByCarrierCallId('twilio', sid);
    expect(call?.status).toBe('completed');
    expect(call?.answeredAt).not.toBeNull();
    expect(call?.endedAt).not.toBeNull();
    expect((await post('exploded')).statusCode).toBe(400);
  });

  it('refuses calls politely in TwiML when at capacity', async () => {
    // Fill the single slot with a fake active call.
    const registry = gw.app.gateway.registry;
    const fake = { callId: 'busy-slot' } as Parameters<typeof registry.add>[0];
    expect(registry.add(fake)).toBe('ok');
    try {
      const params = callParams('CA00000000000000000000000000000005');
      const res = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(AUTH_TOKEN, `${PUBLIC_URL}/voice/twilio`, params) }, payload: form(params) });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/<Say>.*busy.*<\/Say><Hangup\/>/);
      expect(registry.counters.refusedCapacity).toBeGreaterThanOrEqual(1);
    } finally {
      registry.remove(fake);
    }
  });

  it('keeps the REST API behind the API key', async () => {
    expect((await gw.app.inject({ method: 'GET', url: '/v1/calls' })).statusCode).toBe(401);
    expect((await gw.app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    const ok = await gw.app.inject({ method: 'GET', url: '/v1/calls?limit=2', headers: { authorization: `Bearer ${gw.apiKey}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json<{ calls: unknown[] }>().calls.length).toBeLessThanOrEqual(2);
    const bad = await gw.app.inject({ method: 'GET', url: '/v1/calls?status=exploded', headers: { authorization: `Bearer ${gw.apiKey}` } });
    expect(bad.statusCode).toBe(400);
    const missing = await gw.app.inject({ method: 'GET', url: '/v1/calls/00000000-0000-4000-8000-000000000000', headers: { authorization: `Bearer ${gw.apiKey}` } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'GW_ERR_CALL_NOT_FOUND' });
  });
});
