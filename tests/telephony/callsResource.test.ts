// The carrier's side of the Calls REST resource, shared by the simulator and the fake carrier.
import { describe, expect, it } from 'vitest';
import { basicAuthorized, parseCallsPath, parseCarrierForm, readCreateCall } from '../../src/telephony/callsResource.ts';

const AC = `AC${'0123456789abcdef'.repeat(2)}`;

describe('the Calls resource as a carrier reads it', () => {
  it('names the carrier, account and call of a path, and nothing else', () => {
    expect(parseCallsPath(`/2010-04-01/Accounts/${AC}/Calls.json`)).toEqual({ carrier: 'twilio', account: AC, callSid: undefined });
    expect(parseCallsPath('/api/laml/2010-04-01/Accounts/p%2Dx/Calls/CA1.json')).toEqual({ carrier: 'signalwire', account: 'p-x', callSid: 'CA1' });
    expect(parseCallsPath(`/2010-04-01/Accounts/${AC}/Messages.json`)).toBeNull();
  });

  it('keeps every value of a repeated field, and refuses a create without To, From or Url', () => {
    const form = parseCarrierForm('To=%2B14155550100&From=%2B14155550199&Url=https%3A%2F%2Fg%2Fvoice&StatusCallbackEvent=ringing&StatusCallbackEvent=answered&Timeout=20');
    expect(form.StatusCallbackEvent).toEqual(['ringing', 'answered']);
    expect(readCreateCall(form, { inlineTwiml: false })).toMatchObject({ to: '+14155550100', statusCallbackEvents: ['ringing', 'answered'], timeoutS: 20 });
    expect(readCreateCall(parseCarrierForm('From=%2B1&Url=u'), { inlineTwiml: true })).toMatchObject({ status: 400, code: 21201 });
    expect(readCreateCall(parseCarrierForm('To=%2B1&Url=u'), { inlineTwiml: true })).toMatchObject({ code: 21213 });
    expect(readCreateCall(parseCarrierForm('To=%2B1&From=%2B2&Twiml=%3CResponse%2F%3E'), { inlineTwiml: false })).toMatchObject({ code: 21205 });
    expect(readCreateCall(parseCarrierForm('To=%2B1&From=%2B2&Twiml=%3CResponse%2F%3E'), { inlineTwiml: true })).toMatchObject({ twiml: '<Response/>' });
  });

  it('checks Basic auth against the account of the path', () => {
    const header = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
    expect(basicAuthorized(header(AC, 'to:ken'), AC, { [AC]: 'to:ken' })).toBe(true);
    expect(basicAuthorized(header(AC, 'wrong'), AC, { [AC]: 'to:ken' })).toBe(false);
    expect(basicAuthorized(header('ACother', 'to:ken'), AC, { [AC]: 'to:ken' })).toBe(false);
    expect(basicAuthorized(undefined, AC, { [AC]: 'to:ken' })).toBe(false);
  });
});
