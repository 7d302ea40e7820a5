// Issue 16 Low items on webhook input: form bodies parse into null-prototype objects (a `__proto__`
// field must not change the params object's prototype), and the voice webhook accepts the `From`
// values carriers really send (SIP URIs, clients, anonymous…) while refusing unsafe ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFormBody } from '../../src/gateway/formBody.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe('form bodies', () => {
  it('parse into null-prototype objects, keeping __proto__ as a plain field', () => {
    const params = parseFormBody('__proto__=a&__proto__=b&constructor=c&CallSid=CA1');
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(Object.keys(params)).toEqual(['__proto__', 'constructor', 'CallSid']);
    expect(params['__proto__']).toEqual(['a', 'b']);
    expect(params.CallSid).toBe('CA1');
  });
});

describe('voice webhook From', () => {
  let gw: TestGateway;
  let n = 0;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
  });
  afterAll(async () => {
    await gw?.close();
  });

  const voice = (from: string) =>
    gw.app.inject({
      method: 'POST',
      url: '/voice/twilio',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ CallSid: `CA${String(++n).padStart(32, '0')}`, From: from, To: '+14155550199' }).toString(),
    });

  it.each(['+14155550100', 'client:alice', 'sip:alice@example.com', 'sip:+14155550100@pbx.example.com;user=phone;transport=tls', 'anonymous', 'Anonymous', 'Restricted', '+266696687', '4155550100'])(
    'accepts %s',
    async (from) => {
      const res = await voice(from);
      expect(res.statusCode, res.body).toBe(200);
    },
  );

  it.each([['a control character', 'client:a\u0000b'], ['a newline', 'sip:a@b\r\nX: y'], ['an overlong value', `sip:${'a'.repeat(300)}@example.com`]])('refuses %s, naming the field', async (_what, from) => {
    const res = await voice(from);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/From/);
  });
});
