// Stream tokens: a token starts at most one session and never one for a call that has ended (issue 9,
// finding 4); it is bound to the carrier call it was issued for and never reaches the flow (issue 16,
// item 3); a voice webhook for an ended call is refused.
import { describe, expect, it } from 'vitest';
import { StreamTokenLedger } from '../../src/gateway/streamTokenLedger.ts';
import { twilioCarrierDialect } from '../../src/telephony/twilio.ts';
import { gatewayForSuite } from '../helpers/gateway.ts';
import { SILENCE_FRAME, openMediaSocket, streamStart, voiceWebhook, replayYes } from '../helpers/carrierStream.ts';

const dialect = twilioCarrierDialect;

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  for (let waited = 0; !cond() && waited < ms; waited += 20) await new Promise((r) => setTimeout(r, 20));
};

describe('stream tokens', () => {
  const gw = gatewayForSuite('pglite');

  it('a replayed start after the call ended starts nothing: refused, logged and counted', async () => {
    const result = await replayYes(gw);
    expect(result.endReason).toBe('gateway-closed');
    const params = result.stream?.parameters ?? {};
    expect(params.token).toBeDefined();
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    const eventsBefore = (await gw.eventLog.listEvents(result.callId ?? '')).length;
    const rejectedBefore = gw.app.gateway.counters.rejectedStreams;

    // The same start again (the token has not expired): no session, no flow, no audio.
    const { ws, closed, received } = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    ws.send(dialect.connected());
    ws.send(dialect.start(1, streamStart(result.carrierCallId, params)));
    for (let i = 0; i < 5; i++) ws.send(dialect.media(i + 2, `MZ${result.carrierCallId.slice(2)}`, { track: 'inbound', chunk: i + 1, timestampMs: i * 20, payloadBase64: SILENCE_FRAME }));
    expect((await closed).code).toBe(1008);
    expect(received.filter((m) => m.includes('"media"'))).toEqual([]);
    expect(gw.app.gateway.registry.size).toBe(0);
    expect(gw.app.gateway.counters.rejectedStreams).toBe(rejectedBefore + 1);
    expect(gw.app.gateway.tokens.endedCalls).toBeGreaterThanOrEqual(1);
    await gw.eventLog.flush();
    expect((await gw.eventLog.listEvents(result.callId ?? '')).length).toBe(eventsBefore);
    expect((await gw.calls.get(result.callId ?? ''))?.status).toBe('completed');

    // And a retried voice webhook for the ended call does not start it again.
    const again = await voiceWebhook(gw, result.carrierCallId);
    expect(again.status).toBe(200);
    expect(again.body).toContain('<Reject');
    expect(again.params.token).toBeUndefined();
  }, 60_000);

  it('a token starts one session only, even while its call is live', async () => {
    const sid = 'CA20000000000000000000000000000001';
    const { params } = await voiceWebhook(gw, sid);
    const first = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    first.ws.send(dialect.start(1, streamStart(sid, params)));
    await waitFor(() => gw.app.gateway.registry.get(params.callId ?? '') !== undefined);
    const session = gw.app.gateway.registry.get(params.callId ?? '');
    expect(session).toBeDefined();
    const replayedBefore = gw.app.gateway.tokens.replayedTokens;
    // The live session ends (stream stopped) and the same token comes again at once.
    first.ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '2', streamSid: `MZ${sid.slice(2)}`, stop: { accountSid: 'AC0123456789abcdef0123456789abcdef', callSid: sid } }));
    await first.closed;
    const second = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    second.ws.send(dialect.start(1, streamStart(sid, params)));
    expect((await second.closed).code).toBe(1008);
    expect(gw.app.gateway.tokens.replayedTokens + gw.app.gateway.tokens.endedCalls).toBeGreaterThan(replayedBefore);
  });

  it('a stream for a call another instance already ended is ended once its start is written: the record is the check', async () => {
    const sid = 'CA20000000000000000000000000000003';
    const { params } = await voiceWebhook(gw, sid);
    await gw.app.gateway.settle();
    // Another instance served the call and ended it: this process has never seen it end.
    await gw.calls.end({ id: params.callId ?? '' }, 'elsewhere');
    const endedBefore = gw.app.gateway.tokens.endedCalls;
    const { ws, closed } = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    ws.send(dialect.start(1, streamStart(sid, params)));
    for (let i = 0; i < 5; i++) ws.send(dialect.media(i + 2, `MZ${sid.slice(2)}`, { track: 'inbound', chunk: i + 1, timestampMs: i * 20, payloadBase64: SILENCE_FRAME }));
    await waitFor(() => gw.app.gateway.tokens.endedCalls > endedBefore);
    expect(gw.app.gateway.tokens.endedCalls).toBe(endedBefore + 1);
    await waitFor(() => gw.app.gateway.registry.get(params.callId ?? '') === undefined);
    expect(gw.app.gateway.registry.get(params.callId ?? '')).toBeUndefined();
    ws.close();
    await closed;
    await gw.app.gateway.settle();
    // The first end stands.
    expect(await gw.calls.get(params.callId ?? '')).toMatchObject({ status: 'completed', endReason: 'elsewhere' });
  });

  it('is bound to the carrier call it was issued for, and never reaches the flow', async () => {
    const sid = 'CA20000000000000000000000000000002';
    const { params } = await voiceWebhook(gw, sid);
    // The same parameters presented for another carrier call id: the token does not verify.
    const moved = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    moved.ws.send(dialect.start(1, streamStart('CA29999999999999999999999999999999', params)));
    expect((await moved.closed).code).toBe(1008);
    // …nor on the other carrier's endpoint.
    const otherCarrier = await openMediaSocket(`${gw.wsUrl}/media/signalwire`);
    otherCarrier.ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: 'MZx', start: { streamSid: 'MZx', callSid: sid, accountSid: 'p', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: params } }));
    expect((await otherCarrier.closed).code).toBe(1008);

    const good = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    good.ws.send(dialect.start(1, streamStart(sid, params)));
    await waitFor(() => gw.app.gateway.registry.get(params.callId ?? '') !== undefined);
    const session = gw.app.gateway.registry.get(params.callId ?? '');
    expect(session?.parameters.callId).toBe(params.callId);
    expect(session?.parameters.token).toBeUndefined();
    expect(JSON.stringify(session?.parameters)).not.toContain(params.token ?? 'no token');
    good.ws.close();
    await good.closed;
  });
});

describe('StreamTokenLedger', () => {
  it('accepts a token once, remembers it until it expires, and forgets it after (bounded memory)', () => {
    let now = 1_000_000;
    const ledger = new StreamTokenLedger(() => now);
    expect(ledger.consume('t1', now / 1000 + 60)).toBe(true);
    expect(ledger.consume('t1', now / 1000 + 60)).toBe(false);
    expect(ledger.counters.replayedTokens).toBe(1);
    ledger.markEnded('call-1', 'twilio:CA1');
    expect(ledger.refuseEnded('call-1')).toBe(true);
    expect(ledger.refuseEnded('twilio:CA1')).toBe(true);
    expect(ledger.refuseEnded('call-2')).toBe(false);
    now += 10 * 60_000;
    expect(ledger.refuseEnded('call-1')).toBe(false);
    expect(ledger.size).toBe(0);
  });
});
