import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { CarrierRestClient } from '../../src/telephony/rest.ts';
import { startFakeCarrier, type FakeCarrier } from '../fakes/carrier.ts';

const AC = 'AC' + 'a'.repeat(32);
const TOKEN = 'secret-token-0123456789';
const PROJECT = '0d4f6c1e-1b2a-4c3d-8e9f-0a1b2c3d4e5f';

let fake: FakeCarrier;
beforeAll(async () => {
  fake = await startFakeCarrier({ [AC]: TOKEN, [PROJECT]: 'sw-token' });
});
afterAll(async () => {
  await fake.close();
});

const twilio = () => new CarrierRestClient({ carrier: 'twilio', accountSid: AC, authToken: TOKEN, baseUrl: fake.baseUrl, timeoutMs: 2000 });

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('expected a rejection');
}

describe('CarrierRestClient against the fake carrier', () => {
  it('creates a Twilio call with status callbacks, AMD and timeout', async () => {
    const call = await twilio().createCall({
      to: '+14155550100',
      from: '+14155550199',
      url: 'https://gw.example.com/voice/twilio?callId=c1',
      statusCallback: 'https://gw.example.com/status/twilio',
      machineDetection: 'DetectMessageEnd',
      asyncAmd: true,
      timeoutS: 25,
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe('queued');
    expect(call.direction).toBe('outbound-api');
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe(`/2010-04-01/Accounts/${AC}/Calls.json`);
    expect(req.authorized).toBe(true);
    expect(req.params).toMatchObject({
      To: '+14155550100',
      From: '+14155550199',
      Url: 'https://gw.example.com/voice/twilio?callId=c1',
      StatusCallback: 'https://gw.example.com/status/twilio',
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      MachineDetection: 'DetectMessageEnd',
      AsyncAmd: 'true',
      Timeout: '25',
    });
    expect(fake.calls.get(call.sid)).toMatchObject({ to: '+14155550100', url: 'https://gw.example.com/voice/twilio?callId=c1', timeoutS: 25 });
  });

  it('uses the SignalWire LaML path and project credentials', async () => {
    const sw = new CarrierRestClient({ carrier: 'signalwire', accountSid: PROJECT, authToken: 'sw-token', baseUrl: fake.baseUrl });
    const call = await sw.createCall({ to: '+1', from: '+2', twiml: '<Response><Hangup/></Response>' });
    expect(fake.requests.at(-1)!.path).toBe(`/api/laml/2010-04-01/Accounts/${PROJECT}/Calls.json`);
    expect(fake.calls.get(call.sid)!.twiml).toBe('<Response><Hangup/></Response>');
    expect(() => new CarrierRestClient({ carrier: 'signalwire', accountSid: PROJECT, authToken: 'x' })).toThrow(/space/);
  });

  it('hangs up with Status=completed; an unknown call counts as already ended', async () => {
    const client = twilio();
    const call = await client.createCall({ to: '+1', from: '+2', url: 'https://h/voice/twilio' });
    await expect(client.hangup(call.sid)).resolves.toEqual({ alreadyEnded: false });
    expect(fake.requests.at(-1)).toMatchObject({ path: `/2010-04-01/Accounts/${AC}/Calls/${call.sid}.json`, params: { Status: 'completed' } });
    expect(fake.calls.get(call.sid)!.status).toBe('completed');
    await expect(client.hangup('CA' + '0'.repeat(32))).resolves.toEqual({ alreadyEnded: true });
  });

  it('transfers by updating the call with <Dial> TwiML', async () => {
    const client = twilio();
    const call = await client.createCall({ to: '+1', from: '+2', url: 'https://h/voice/twilio' });
    await client.transfer(call.sid, { number: '+14155550123', callerId: '+14155550199', timeoutS: 20 });
    expect(fake.calls.get(call.sid)!.updates.at(-1)!.Twiml).toContain('<Dial callerId="+14155550199" timeout="20"><Number>+14155550123</Number></Dial>');
    await client.updateCall(call.sid, { url: 'https://h/next' });
    expect(fake.calls.get(call.sid)!.updates.at(-1)).toEqual({ Url: 'https://h/next', Method: 'POST' });
  });

  it('rejects bad credentials with a permanent error that does not contain the token', async () => {
    const bad = new CarrierRestClient({ carrier: 'twilio', accountSid: AC, authToken: 'wrong-token-value', baseUrl: fake.baseUrl });
    const err = await rejection(bad.createCall({ to: '+1', from: '+2', url: 'https://h' }));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('GW_ERR_CARRIER_HTTP');
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ status: 401, carrierCode: 20003 });
    expect(err.message).toMatch(/401/);
    expect(JSON.stringify({ m: err.message, d: err.details, s: err.stack })).not.toContain('wrong-token-value');
  });

  it('redacts the token even if the carrier echoes it', async () => {
    fake.fail({ status: 400, body: { code: 21205, message: `bad request for ${TOKEN}`, status: 400 } });
    const err = await rejection(twilio().createCall({ to: '+1', from: '+2', url: 'https://h' }));
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).toContain('[redacted]');
  });

  it('marks 5xx, 429 and 408 retryable, other 4xx permanent', async () => {
    for (const [status, retryable] of [[500, true], [503, true], [429, true], [408, true], [400, false], [404, false]] as const) {
      fake.fail({ status });
      const err = await rejection(twilio().getCall('CA1'));
      expect([status, err.code, err.retryable]).toEqual([status, 'GW_ERR_CARRIER_HTTP', retryable]);
    }
  });

  it('times out a slow carrier with a retryable error', async () => {
    fake.fail({ status: 200, delayMs: 800 });
    const client = new CarrierRestClient({ carrier: 'twilio', accountSid: AC, authToken: TOKEN, baseUrl: fake.baseUrl, timeoutMs: 150 });
    const err = await rejection(client.getCall('CA1'));
    expect(err.code).toBe('GW_ERR_CARRIER_TIMEOUT');
    expect(err.retryable).toBe(true);
  });

  it('reports a dropped connection as unreachable, and lets a caller abort quietly', async () => {
    fake.fail({ status: 0, drop: true });
    const err = await rejection(twilio().getCall('CA1'));
    expect([err.code, err.retryable]).toEqual(['GW_ERR_CARRIER_UNREACHABLE', true]);
    fake.fail({ status: 200, delayMs: 500 });
    const ac = new AbortController();
    const p = twilio().getCall('CA1', ac.signal);
    setTimeout(() => ac.abort(), 50);
    const aborted = await rejection(p);
    expect((aborted as Error).name).toBe('AbortError');
  });

  it('validates its inputs', async () => {
    const err = await rejection(twilio().createCall({ to: '+1', from: '+2' }));
    expect(err.code).toBe('GW_ERR_CARRIER_BAD_REQUEST');
    expect(() => new CarrierRestClient({ carrier: 'twilio', accountSid: '', authToken: '' })).toThrow(GatewayError);
  });
});
