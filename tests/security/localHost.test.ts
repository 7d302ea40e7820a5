// Issue 16 Low item: in local unauthenticated mode (no carrier credentials, loopback) webhooks and
// streams are unsigned, so a tunnel or a DNS-rebinding page could reach them under another name.
// There, carrier routes answer only requests addressed to PUBLIC_URL's host or a loopback name.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { gatewayForSuite } from '../helpers/gateway.ts';

let n = 0;
const voiceForm = () => new URLSearchParams({ CallSid: `CA${String(++n).padStart(32, '0')}`, From: '+14155550100', To: '+14155550199' }).toString();

describe('Host in local unauthenticated mode', () => {
  const gw = gatewayForSuite('pglite');

  const voice = (host: string) => gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { host, 'content-type': 'application/x-www-form-urlencoded' }, payload: voiceForm() });

  it('accepts PUBLIC_URL host and loopback names', async () => {
    for (const host of ['gateway.test', 'GATEWAY.test:443', 'localhost:3000', '127.0.0.1:8080', '[::1]:3000']) expect((await voice(host)).statusCode, host).toBe(200);
  });

  it('refuses webhooks addressed to another host', async () => {
    for (const host of ['abc123.ngrok.example', 'attacker.example:3000', 'gateway.test.attacker.example']) {
      const res = await voice(host);
      expect(res.statusCode, host).toBe(403);
      expect(res.json()).toMatchObject({ code: 'GW_ERR_HOST_NOT_ALLOWED' });
    }
  });

  it('refuses a media stream upgrade addressed to another host', async () => {
    const ws = new WebSocket(`${gw.wsUrl}/media/twilio`, { headers: { host: 'attacker.example' } });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    ws.terminate();
    expect(status).toBe(403);
  });

  it('leaves /healthz and the API alone', async () => {
    expect((await gw.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'attacker.example' } })).statusCode).toBe(200);
  });
});

describe('Host with carrier credentials', () => {
  const gw = gatewayForSuite('pglite', { env: { TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789' } });

  it('is not checked (signatures authenticate webhooks)', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { host: 'lb.internal', 'content-type': 'application/x-www-form-urlencoded' }, payload: voiceForm() });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('GW_ERR_FORBIDDEN'); // the signature check, not the host
  });
});
