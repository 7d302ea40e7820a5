// The signed context in a placed call's webhook URLs (src/gateway/placedContext.ts): what placing a call
// puts in the URLs, that the voice webhook answers from it, and that an altered, expired, foreign-carrier
// or unsigned one is refused with an error naming the `ctx` parameter. Status callbacks that name their
// call fill in the carrier call id themselves, and one whose context does not verify is still applied.
import { describe, expect, it } from 'vitest';
import { CONTEXT_GRACE_S, placedCallUrls, signPlacedContext, verifyPlacedContext, type PlacedContext } from '../../src/gateway/placedContext.ts';
import { parseTwiml } from '../../src/telephony/twiml.ts';
import { gatewayForSuite } from '../helpers/gateway.ts';

const SECRET = 'placed-context-test-secret-0123456789abcdef';
const context = (over: Partial<PlacedContext> = {}): PlacedContext => ({
  callId: '6f2b1f0e-8a51-4c9b-9d1e-0123456789ab',
  carrier: 'twilio',
  direction: 'outbound',
  flowId: 'outbound-reminder',
  amd: false,
  expiresAt: Math.floor(Date.now() / 1000) + 600,
  ...over,
});

describe('placed call context', () => {
  it('round-trips, binds the call id, carrier and secret, and expires', () => {
    const c = context();
    const ctx = signPlacedContext(SECRET, c);
    expect(ctx.length).toBeLessThan(160);
    expect(verifyPlacedContext(SECRET, c.callId, 'twilio', ctx)).toEqual({ ok: true, context: c });
    expect(verifyPlacedContext(SECRET, '6f2b1f0e-8a51-4c9b-9d1e-0123456789ac', 'twilio', ctx)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(verifyPlacedContext(SECRET, undefined, 'twilio', ctx)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(verifyPlacedContext(`${SECRET}x`, c.callId, 'twilio', ctx)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(verifyPlacedContext(SECRET, c.callId, 'signalwire', ctx)).toMatchObject({ ok: false, reason: 'carrier' });
    // The payload changed (AMD turned back on), the signature kept: refused.
    const [, mac] = ctx.split('.');
    const altered = `${Buffer.from(JSON.stringify({ c: 'twilio', d: 'o', f: 'outbound-reminder', a: 1, e: c.expiresAt })).toString('base64url')}.${mac}`;
    expect(verifyPlacedContext(SECRET, c.callId, 'twilio', altered)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(verifyPlacedContext(SECRET, c.callId, 'twilio', 'nodot')).toMatchObject({ ok: false, reason: 'invalid' });
    const old = signPlacedContext(SECRET, context({ expiresAt: 1000 }));
    expect(verifyPlacedContext(SECRET, c.callId, 'twilio', old)).toMatchObject({ ok: false, reason: 'expired' });
    // Status callbacks come for as long as the call lasts: no expiry for them.
    expect(verifyPlacedContext(SECRET, c.callId, 'twilio', old, { checkExpiry: false })).toMatchObject({ ok: true });
    const urls = placedCallUrls('https://gw.example', SECRET, c);
    expect(urls.url).toBe(`https://gw.example/voice/twilio?callId=${c.callId}&ctx=${ctx}`);
    expect(urls.statusCallback).toBe(`https://gw.example/status/twilio?callId=${c.callId}&ctx=${ctx}`);
  });

  const gw = gatewayForSuite('pglite', { env: { STREAM_TOKEN_SECRET: SECRET } });
  const form = (p: Record<string, string>): string => new URLSearchParams(p).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const voice = (carrier: string, query: string, sid: string) =>
    gw.app.inject({ method: 'POST', url: `/voice/${carrier}?${query}`, headers, payload: form({ CallSid: sid, From: '+15005550006', To: '+14155550123', Direction: 'outbound-api' }) });
  const placeRecord = async (amd: boolean) =>
    (await gw.calls.create({ carrier: 'twilio', direction: 'outbound', fromNumber: '+15005550006', toNumber: '+14155550123', status: 'queued', flowId: 'outbound-reminder', metadata: { variables: {}, amd } })).call;
  const query = (c: PlacedContext, ctx = signPlacedContext(SECRET, c)) => new URLSearchParams({ callId: c.callId, ctx }).toString();

  it('the voice webhook answers from a valid context, with its flow and AMD choice', async () => {
    const call = await placeRecord(true);
    // The context, not the record, decides the answer's claims when the record is not in memory.
    gw.calls.placed?.forget(call.id);
    const res = await voice('twilio', query(context({ callId: call.id, amd: false })), 'CA11111111111111111111111111111111');
    expect(res.statusCode).toBe(200);
    const params = parseTwiml(res.body).stream?.parameters;
    expect(params).toMatchObject({ callId: call.id, flowId: 'outbound-reminder', direction: 'outbound' });
    await gw.app.gateway.settle();
    expect((await gw.calls.get(call.id))?.carrierCallId).toBe('CA11111111111111111111111111111111');
    // The carrier's retry of the same webhook gets the same call.
    const again = await voice('twilio', query(context({ callId: call.id })), 'CA11111111111111111111111111111111');
    expect(parseTwiml(again.body).stream?.parameters.callId).toBe(call.id);
    // Another carrier call carrying this call's URL is not given it.
    const other = await voice('twilio', query(context({ callId: call.id })), 'CA22222222222222222222222222222222');
    expect(other.statusCode).toBe(200);
    expect(parseTwiml(other.body).stream).toBeUndefined();
  });

  it('a valid context does not start a call that has ended', async () => {
    const call = await placeRecord(true);
    await gw.calls.end({ id: call.id }, 'done');
    gw.calls.placed?.forget(call.id);
    const res = await voice('twilio', query(context({ callId: call.id })), 'CA55555555555555555555555555555555');
    expect(res.statusCode).toBe(200);
    expect(parseTwiml(res.body).stream).toBeUndefined();
    expect(res.body).toContain('<Reject');
  });

  it('refuses an altered, expired, foreign-carrier or orphan context with an error naming ctx, and creates no call', async () => {
    const call = await placeRecord(true);
    const c = context({ callId: call.id });
    const before = (await gw.calls.list({ limit: 100 })).calls.length;
    const ctx = signPlacedContext(SECRET, c);
    const cases: Array<[string, string, string]> = [
      ['twilio', query(c, `${ctx.slice(0, -2)}AA`), 'GW_ERR_WEBHOOK_CONTEXT_INVALID'],
      ['twilio', query(context({ callId: call.id, expiresAt: Math.floor(Date.now() / 1000) - 1 })), 'GW_ERR_WEBHOOK_CONTEXT_EXPIRED'],
      ['signalwire', query(c), 'GW_ERR_WEBHOOK_CONTEXT_CARRIER'],
      ['twilio', new URLSearchParams({ ctx }).toString(), 'GW_ERR_WEBHOOK_CONTEXT_INVALID'],
      ['twilio', `${query(c)}&ctx=${ctx}`, 'GW_ERR_WEBHOOK_CONTEXT_INVALID'],
    ];
    for (const [carrier, q, code] of cases) {
      const res = await voice(carrier, q, 'CA33333333333333333333333333333333');
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({ code, message: expect.stringMatching(/^ctx: /) });
    }
    expect((await gw.calls.list({ limit: 100 })).calls.length).toBe(before);
    expect((await gw.calls.get(call.id))?.carrierCallId).toBeNull();
  });

  it('a status callback naming its call fills in the carrier call id; one whose context does not verify is applied by the carrier id', async () => {
    const call = await placeRecord(true);
    const c = context({ callId: call.id, expiresAt: Math.floor(Date.now() / 1000) + 60 + CONTEXT_GRACE_S });
    const status = (q: string, sid: string, callStatus: string) => gw.app.inject({ method: 'POST', url: `/status/twilio?${q}`, headers, payload: form({ CallSid: sid, CallStatus: callStatus }) });
    // Before the voice webhook (and before placing noted the carrier's id): ringing.
    expect((await status(query(c), 'CA44444444444444444444444444444444', 'ringing')).statusCode).toBe(204);
    await gw.app.gateway.settle();
    expect(await gw.calls.get(call.id)).toMatchObject({ carrierCallId: 'CA44444444444444444444444444444444', status: 'ringing' });
    expect((await status(query(c, 'forged.context'), 'CA44444444444444444444444444444444', 'in-progress')).statusCode).toBe(204);
    await gw.app.gateway.settle();
    expect((await gw.calls.get(call.id))?.status).toBe('in-progress');
  });
});
