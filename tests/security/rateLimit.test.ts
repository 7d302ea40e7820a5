// Issue 16 item 5 (and issue 10 item 4's rate-limit part): webhooks are charged to the limit only
// after their signature is checked, so forged requests cannot exhaust the bucket real carrier
// webhooks share; limits key IPv6 clients by /64 (and IPv4-mapped addresses as IPv4); the API limit
// counts authenticated requests. Both run on @fastify/rate-limit with an LRU-bounded store.
import { describe, expect, it } from 'vitest';
import { clientKey } from '../../src/gateway/clientKey.ts';
import { computeSignature } from '../../src/telephony/signature.ts';
import { gatewayForSuite, PUBLIC_URL } from '../helpers/gateway.ts';

const AUTH_TOKEN = 'test-auth-token-0123456789';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const form = (p: Record<string, string>): string => new URLSearchParams(p).toString();
let sidCounter = 0;
const status = () => ({ CallSid: `CA${String(++sidCounter).padStart(32, '0')}`, AccountSid: ACCOUNT_SID, CallStatus: 'ringing' });

describe('client keys', () => {
  it('keys IPv6 by /64 and IPv4-mapped IPv6 as IPv4', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(clientKey('::ffff:10.0.0.1')).not.toBe(clientKey('::ffff:10.0.0.2'));
    expect(clientKey('203.0.113.9')).toBe('203.0.113.9');
  });
});

describe('webhook rate limit', () => {
  const gw = gatewayForSuite('pglite', { env: { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, WEBHOOK_RATE_LIMIT_PER_MINUTE: '3' } });

  const post = (params: Record<string, string>, remoteAddress: string, signed = true) =>
    gw.app.inject({
      method: 'POST',
      url: '/status/twilio',
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signed ? computeSignature(AUTH_TOKEN, `${PUBLIC_URL}/status/twilio`, params) : 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      payload: form(params),
    });

  it('does not charge forged webhooks to the bucket real ones share', async () => {
    const ip = '198.51.100.7';
    for (let i = 0; i < 10; i++) expect((await post(status(), ip, false)).statusCode).toBe(403);
    for (let i = 0; i < 3; i++) expect((await post(status(), ip)).statusCode).toBe(204);
    const limited = await post(status(), ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'GW_ERR_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('counts a whole IPv6 /64 as one client', async () => {
    for (let i = 1; i <= 3; i++) expect((await post(status(), `2001:db8:7:7::${i}`)).statusCode).toBe(204);
    expect((await post(status(), '2001:db8:7:7::99')).statusCode).toBe(429);
    expect((await post(status(), '2001:db8:7:8::1')).statusCode).toBe(204);
  });
});

describe('API rate limit', () => {
  const gw = gatewayForSuite('pglite', { env: { API_RATE_LIMIT_PER_MINUTE: '3' } });

  it('counts authenticated requests only, and answers 429 with the gateway error shape', async () => {
    for (let i = 0; i < 5; i++) expect((await gw.app.inject({ method: 'GET', url: '/v1/calls' })).statusCode).toBe(401);
    const authed = () => gw.app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: `Bearer ${gw.apiKey}` } });
    for (let i = 0; i < 3; i++) expect((await authed()).statusCode).toBe(200);
    const limited = await authed();
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'GW_ERR_RATE_LIMITED' });
  });
});
