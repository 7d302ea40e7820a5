// Issue 16 item 4 and the Low item on Twilio upgrade signatures: before a stream has authenticated
// with its `start`, it may send only `connected` and `start` (small ones); anything else closes it.
// Unauthenticated sockets are capped per address and in total, and with Twilio credentials the
// upgrade must carry a valid X-Twilio-Signature.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';
import { PendingStreams } from '../../src/gateway/pendingStreams.ts';
import { computeSignature } from '../../src/telephony/signature.ts';
import { twilioCarrierDialect as dialect } from '../../src/telephony/twilio.ts';
import { gatewayForSuite, PUBLIC_URL } from '../helpers/gateway.ts';

const silence = Buffer.alloc(160, MULAW_SILENCE).toString('base64');
const AUTH_TOKEN = 'test-auth-token-0123456789';

interface Opened {
  ws: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string, headers: Record<string, string> = {}): Promise<Opened> {
  const ws = new WebSocket(url, { headers });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('unauthenticated media streams', () => {
  const gw = gatewayForSuite('pglite', { env: { MAX_PENDING_STREAMS: '3', MAX_PENDING_STREAMS_PER_ADDRESS: '2' } });

  it('closes a stream that sends media before start, at once (not at the start timeout)', async () => {
    const { ws, closed } = await open(`${gw.wsUrl}/media/twilio`);
    const t0 = performance.now();
    ws.send(dialect.connected());
    ws.send(dialect.media(1, 'MZ1', { track: 'inbound', chunk: 1, timestampMs: 0, payloadBase64: silence }));
    expect((await closed).code).toBe(1008);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('closes a stream that sends anything else before start (mark, unknown, malformed, binary)', async () => {
    for (const message of [JSON.stringify({ event: 'mark', mark: { name: 'x' } }), JSON.stringify({ event: 'telepathy' }), '{not json', Buffer.from([1, 2, 3])]) {
      const { ws, closed } = await open(`${gw.wsUrl}/media/twilio`);
      ws.send(message);
      expect((await closed).code, String(message)).toBe(1008);
    }
  });

  it('closes an oversized message before start although it is under MAX_MESSAGE_BYTES', async () => {
    const { ws, closed } = await open(`${gw.wsUrl}/media/twilio`);
    ws.send(JSON.stringify({ event: 'start', start: { customParameters: { pad: 'x'.repeat(40_000) } } }));
    expect((await closed).code).toBe(1009);
  });

  it('caps pending sockets per address, and frees the slot when one closes', async () => {
    const a = await open(`${gw.wsUrl}/media/twilio`);
    const b = await open(`${gw.wsUrl}/media/twilio`);
    await expect(open(`${gw.wsUrl}/media/twilio`)).rejects.toThrow(/503/);
    a.ws.close();
    await a.closed;
    await new Promise((r) => setTimeout(r, 50));
    const c = await open(`${gw.wsUrl}/media/twilio`);
    b.ws.close();
    c.ws.close();
    await Promise.all([b.closed, c.closed]);
  });

});

describe('PendingStreams', () => {
  it('caps unauthenticated sockets in total and per client key, and frees slots once', () => {
    const pending = new PendingStreams(3, 2);
    const a1 = pending.tryAcquire('a');
    const a2 = pending.tryAcquire('a');
    expect(a1 && a2).toBeTruthy();
    expect(pending.tryAcquire('a')).toBeUndefined();
    const b1 = pending.tryAcquire('b');
    expect(b1).toBeDefined();
    expect(pending.tryAcquire('c')).toBeUndefined(); // total reached
    expect(pending.wouldAccept('c')).toBe(false);
    a1?.();
    a1?.(); // releasing twice frees one slot only
    expect(pending.size).toBe(2);
    expect(pending.tryAcquire('c')).toBeDefined();
    expect(pending.tryAcquire('b')).toBeUndefined();
  });
});

describe('Twilio upgrade signature', () => {
  const gw = gatewayForSuite('pglite', { env: { TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: AUTH_TOKEN } });

  it('is required when Twilio credentials are configured', async () => {
    await expect(open(`${gw.wsUrl}/media/twilio`)).rejects.toThrow(/403/);
    const url = `${PUBLIC_URL.replace(/^https/, 'wss')}/media/twilio`;
    const { ws, closed } = await open(`${gw.wsUrl}/media/twilio`, { 'x-twilio-signature': computeSignature(AUTH_TOKEN, url, {}) });
    ws.close();
    await closed;
  });
});
