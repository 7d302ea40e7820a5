// The embedded default (PGlite in the gateway's own process, what a newcomer's `npm start` runs) under
// a real fault: the process is SIGKILLed mid-call and started again on the same data folder. What was
// recorded before the kill is still there, written through the PGlite thread's batched, prepared
// queries, and the call the kill cut is closed as gateway_lost by the new process.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall, type TimelineEntry } from '../../src/replay/client.ts';
import { startFakeCarrier, type FakeCarrier } from '../fakes/carrier.ts';
import { startGatewayProcess, type GatewayProcess } from './helpers/gatewayProcess.ts';

const TWILIO = { sid: 'AC0123456789abcdef0123456789abcdee', token: 'embedded-fault-twilio-token' };
const CALLER = decodeWav(readFileSync(new URL('../../fixtures/speech/yes.wav', import.meta.url)));

type PublicCall = { id: string; status: string; endReason: string | null };
type CallDetail = { call: PublicCall; events: Array<{ type: string }>; outcome: { category: string } | null };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const started = performance.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('embedded database (PGlite): SIGKILL mid-call, then a restart on the same data folder', () => {
  let carrier: FakeCarrier;
  let dataDir: string;
  const running: GatewayProcess[] = [];

  beforeAll(async () => {
    carrier = await startFakeCarrier({ [TWILIO.sid]: TWILIO.token });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-embedded-fault-'));
  });
  afterAll(async () => {
    for (const gw of running) await gw.cleanup();
    await carrier?.close();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  const start = async (): Promise<GatewayProcess> => {
    // No DATABASE_URL: the embedded database in the data folder, as `npm start` runs it.
    const gw = await startGatewayProcess(
      { TWILIO_ACCOUNT_SID: TWILIO.sid, TWILIO_AUTH_TOKEN: TWILIO.token, TWILIO_API_BASE_URL: carrier.baseUrl, INSTANCE_HEARTBEAT_MS: '200', INSTANCE_DEAD_AFTER_MS: '1000' },
      { dataDir },
    );
    running.push(gw);
    return gw;
  };
  const call = (gw: GatewayProcess, opts: { speed: number; onEvent?: (e: TimelineEntry) => void; signal?: AbortSignal }) =>
    replayCall({ carrier: 'twilio', audio: CALLER, url: gw.wsUrl, publicUrl: gw.httpUrl, authToken: TWILIO.token, holdMs: 60_000, ...opts });
  const callOf = async (gw: GatewayProcess, id: string): Promise<CallDetail> => (await gw.api<CallDetail>(`/v1/calls/${id}`)).body;

  it('keeps what was recorded, and closes the cut call as gateway_lost', async () => {
    const a = await start();
    const finished = await call(a, { speed: 5 });
    const finishedId = finished.callId ?? '';
    // Settled: the outcome is written behind the end, through the call's ordered writer.
    const before = await until('the finished call recorded', async () => {
      const c = await callOf(a, finishedId);
      return c.call.endReason === 'default_flow_done' && c.events.some((e) => e.type === 'call.ended') && c.outcome !== null ? c : undefined;
    }, 20_000);

    let liveId = '';
    let heard!: () => void;
    const marked = new Promise<void>((r) => (heard = r));
    const abort = new AbortController();
    const live = call(a, { speed: 1, signal: abort.signal, onEvent: (e) => e.event === 'mark' && heard() }).catch(() => undefined);
    await marked;
    // The live call's record (written behind its answer) is on disk before the kill.
    await until('the live call recorded', async () => {
      const page = (await a.api<{ calls: PublicCall[] }>('/v1/calls?limit=10')).body;
      const open = page.calls.find((c) => c.id !== finishedId && c.status === 'in-progress');
      if (open !== undefined) liveId = open.id;
      return open;
    }, 10_000);
    a.signal('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    abort.abort();
    await live;

    const b = await start();
    const after = await callOf(b, finishedId);
    expect(after.call).toEqual(before.call);
    expect(after.events.map((e) => e.type)).toEqual(before.events.map((e) => e.type));
    expect(after.outcome).toEqual(before.outcome);
    const lost = await until('the cut call closed by the new process', async () => {
      const c = await callOf(b, liveId);
      return c.call.endReason === 'gateway_lost' ? c : undefined;
    }, 30_000);
    expect(lost.call.status).toBe('completed');
    b.signal('SIGTERM');
    expect((await b.exited).code, b.tail()).toBe(0);
  }, 120_000);
});
