// The carrier simulator speaks the carrier's REST API to the official-shaped client (our
// CarrierRestClient) and the twilio SDK, checks auth like the carrier, answers per scenario, signs its
// status callbacks as the carrier does, and logs every dial.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { behaviorFor, byLastDigit, parseScenario } from '../../src/sim/behaviors.ts';
import { startSimulator, type Simulator } from '../../src/sim/server.ts';
import { validateSignature } from '../../src/telephony/signature.ts';
import { CarrierRestClient } from '../../src/telephony/rest.ts';

const SID = `AC${'ab'.repeat(16)}`;
const TOKEN = 'sim-test-token';

interface Received {
  url: string;
  params: Record<string, string>;
  signature: string | undefined;
}

async function callbackSink(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', params: Object.fromEntries(new URLSearchParams(body)), signature: req.headers['x-twilio-signature'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => new Promise((r) => server.close(() => r())) };
}

describe('carrier simulator', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('answers numbers by rule, else by last digit', () => {
    const scenario = parseScenario({ rules: [{ match: '+1415555*', kind: 'voicemail' }, { match: '+14155550001', kind: 'busy', ringMs: 10 }] });
    expect(behaviorFor(scenario, '+14155550001').kind).toBe('voicemail'); // first rule wins
    expect(behaviorFor(scenario, '+12125550102').kind).toBe('no-answer');
    expect(['0', '1', '2', '3', '4', '5', '6'].map((d) => byLastDigit(`+1212555010${d}`).kind)).toEqual(['human', 'busy', 'no-answer', 'failed', 'voicemail', 'voicemail', 'human']);
    expect(() => parseScenario({ rules: [{ match: 'x', kind: 'human' }] })).toThrow(/rules\[0\]\.match/);
    expect(() => parseScenario({ rules: [{ match: '+1', kind: 'robot' }] })).toThrow(/rules\[0\]\.kind/);
  });

  it('creates, fetches and hangs up calls through the REST API, refusing bad credentials like the carrier', async () => {
    const sink = await callbackSink();
    try {
      sim = await startSimulator({ accounts: { [SID]: TOKEN }, speed: 100, deliverTo: sink.url });
      const client = new CarrierRestClient({ carrier: 'twilio', accountSid: SID, authToken: TOKEN, baseUrl: sim.baseUrl });
      const busy = await client.createCall({ to: '+12125550101', from: '+14155550100', url: 'https://gw.example/voice/twilio?callId=1', statusCallback: 'https://gw.example/status/twilio', timeoutS: 5 });
      expect(busy).toMatchObject({ status: 'queued', to: '+12125550101' });
      // The official SDK against the simulator: the same resource.
      const sdk = twilio(SID, TOKEN, { edge: undefined });
      sdk.api.baseUrl = sim.baseUrl;
      const fetched = await sdk.api.v2010.accounts(SID).calls(busy.sid).fetch();
      expect(fetched.sid).toBe(busy.sid);
      await sim.idle();
      expect((await client.getCall(busy.sid)).status).toBe('busy');
      // Status callbacks carry the carrier's signature over the URL it was given.
      const statuses = sink.received.filter((r) => r.params.CallSid === busy.sid);
      expect(statuses.map((r) => r.params.CallStatus)).toEqual(['initiated', 'ringing', 'busy']);
      for (const r of statuses) expect(validateSignature(TOKEN, r.signature, 'https://gw.example/status/twilio', r.params)).toBe(true);

      const ringing = await client.createCall({ to: '+12125550102', from: '+14155550100', url: 'https://gw.example/voice/twilio', timeoutS: 60 });
      expect(await client.hangup(ringing.sid)).toEqual({ alreadyEnded: false });
      await sim.idle();
      expect((await client.getCall(ringing.sid)).status).toBe('canceled');

      const bad = new CarrierRestClient({ carrier: 'twilio', accountSid: SID, authToken: 'wrong', baseUrl: sim.baseUrl });
      await expect(bad.createCall({ to: '+12125550106', from: '+14155550100', url: 'https://gw.example/voice/twilio' })).rejects.toMatchObject({ details: { status: 401, carrierCode: 20003 } });
      await expect(client.getCall('CA00000000000000000000000000000000')).rejects.toMatchObject({ details: { status: 404 } });
      const log = (await (await fetch(`${sim.baseUrl}/sim/log`)).json()) as { dials: Array<{ to: string; behavior: string; seq: number }> };
      expect(log.dials.map((d) => [d.seq, d.to, d.behavior])).toEqual([
        [1, '+12125550101', 'busy'],
        [2, '+12125550102', 'no-answer'],
      ]);
    } finally {
      await sink.close();
    }
  });

  it('speaks SignalWire\'s LaML path', async () => {
    const project = '0f0e0d0c-0000-4000-8000-000000000001';
    sim = await startSimulator({ accounts: { [project]: TOKEN }, speed: 100 });
    const client = new CarrierRestClient({ carrier: 'signalwire', accountSid: project, authToken: TOKEN, baseUrl: sim.baseUrl });
    const call = await client.createCall({ to: '+12125550103', from: '+14155550100', url: 'https://gw.example/voice/signalwire' });
    expect(sim.log[0]).toMatchObject({ carrier: 'signalwire', to: '+12125550103', behavior: 'failed' });
    await sim.idle();
    expect((await client.getCall(call.sid)).status).toBe('failed');
  });
});
