// The fault suite (issue 9): the real gateway process against a real PostgreSQL server of its own and
// the fake carrier, with faults injected while calls are live. Each scenario asserts the records
// afterwards and prints what it measured. CI runs the short version; `npm run chaos` (CHAOS=1) the
// long one (more calls, longer outages, timeouts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall, type ReplayResult, type TimelineEntry } from '../../src/replay/client.ts';
import { postVoiceWebhook } from '../../src/replay/webhook.ts';
import { fileURLToPath } from 'node:url';
import { startFakeCarrier, type FakeCarrier } from '../fakes/carrier.ts';
import { startFakeOpenAi } from '../fakes/openaiServer.ts';
import { startGatewayProcess, type GatewayProcess } from './helpers/gatewayProcess.ts';
import { startPostgresCluster, type PostgresCluster } from './helpers/postgresCluster.ts';

const CHAOS = process.env.CHAOS === '1';
const SCALE = {
  sigtermCalls: CHAOS ? 100 : 20,
  outageMs: CHAOS ? 8_000 : 2_000,
  floodWebhooks: CHAOS ? 1_000 : 200,
  floodStreams: CHAOS ? 200 : 40,
};
const TWILIO = { sid: 'AC0123456789abcdef0123456789abcdef', token: 'fault-suite-twilio-token' };
const CALLER = decodeWav(readFileSync(new URL('../../fixtures/speech/yes.wav', import.meta.url)));

type CallRow = { id: string; status: string; end_reason: string | null; answered_at: Date | null; ended_at: Date | null; stream_id: string | null; carrier_call_id: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return { value, ms: Math.round(performance.now() - started) };
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Deploys one of the flows shipped in flows/ through the API. */
async function deployShippedFlow(gw: GatewayProcess, id: string): Promise<void> {
  const { $schema: _schema, ...flow } = JSON.parse(readFileSync(path.resolve(import.meta.dirname, `../../flows/${id}.json`), 'utf8')) as Record<string, unknown>;
  expect((await gw.api('/v1/flows', { body: flow })).status).toBe(201);
}

function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`[faults] ${scenario}: ${JSON.stringify(figures)}`);
}

describe('fault suite (real server, real PostgreSQL, fake carrier)', () => {
  let cluster: PostgresCluster;
  let carrier: FakeCarrier;
  const running: GatewayProcess[] = [];

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: cluster.url,
    // One gateway process serving calls itself (with PostgreSQL, WORKERS defaults to the cores).
    WORKERS: '1',
    TWILIO_ACCOUNT_SID: TWILIO.sid,
    TWILIO_AUTH_TOKEN: TWILIO.token,
    TWILIO_API_BASE_URL: carrier.baseUrl,
    INSTANCE_HEARTBEAT_MS: '200',
    INSTANCE_DEAD_AFTER_MS: '1000',
    ...extra,
  });
  const start = async (extra?: Record<string, string>): Promise<GatewayProcess> => {
    const gw = await startGatewayProcess(env(extra));
    running.push(gw);
    return gw;
  };
  const call = (gw: GatewayProcess, opts: { speed?: number; onEvent?: (e: TimelineEntry) => void; signal?: AbortSignal } = {}): Promise<ReplayResult> =>
    replayCall({ carrier: 'twilio', audio: CALLER, url: gw.wsUrl, publicUrl: gw.httpUrl, authToken: TWILIO.token, speed: opts.speed ?? 2, holdMs: 60_000, ...opts });
  const firstMark = (): { seen: Promise<void>; onEvent: (e: TimelineEntry) => void } => {
    let resolve!: () => void;
    const seen = new Promise<void>((r) => (resolve = r));
    return { seen, onEvent: (e) => e.event === 'mark' && resolve() };
  };
  const calls = (ids: string[]): Promise<CallRow[]> => cluster.query<CallRow>('SELECT * FROM calls WHERE id = ANY($1) ORDER BY created_at', [ids]);
  const timelines = async (ids: string[]): Promise<Map<string, string[]>> => {
    const rows = await cluster.query<{ call_id: string; type: string }>('SELECT call_id, type FROM call_events WHERE call_id = ANY($1) ORDER BY call_id, seq', [ids]);
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.call_id, [...(out.get(r.call_id) ?? []), r.type]);
    return out;
  };

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    carrier = await startFakeCarrier({ [TWILIO.sid]: TWILIO.token });
  }, 120_000);
  // A test that fails part-way must not leave its gateways running into the next one, where one
  // would reconcile the next test's instance as lost (its heartbeat interval is short here).
  afterEach(async () => {
    for (const gw of running.splice(0)) await gw.cleanup();
  }, 60_000);
  afterAll(async () => {
    for (const gw of running) await gw.cleanup();
    await carrier?.close();
    await cluster?.destroy();
  }, 60_000);

  it('PostgreSQL stopped at webhook time, mid-call and as calls end, then started: every record and timeline complete', async () => {
    const gw = await start();
    const mid = firstMark();
    const midCall = call(gw, { onEvent: mid.onEvent });
    await mid.seen;
    const stoppedAt = performance.now();
    await cluster.stop('fast');
    // A new call arrives while the database is down: answered, greeted, ended.
    const webhookStarted = performance.now();
    const duringCall = call(gw);
    const results = await Promise.all([midCall, duringCall]);
    const webhookToEndMs = Math.round(performance.now() - webhookStarted);
    for (const r of results) expect(r.receivedAudioMs).toBeGreaterThan(2000); // the callers heard the greeting
    await sleep(SCALE.outageMs);
    const duringOutage = (await gw.api<{ events: { buffered: number; failedWrites: number }; callWrites: { pending: number; retries: number } }>('/v1/metrics')).body;
    expect(duringOutage.events.buffered).toBeGreaterThan(0);
    expect(duringOutage.callWrites.pending).toBeGreaterThan(0);
    await cluster.start();
    const outageMs = Math.round(performance.now() - stoppedAt);
    const ids = results.map((r) => r.callId ?? '');
    const converged = await until(
      'records complete after the outage',
      async () => {
        const rows = await calls(ids);
        const tl = await timelines(ids);
        const complete = rows.length === 2 && rows.every((r) => r.status === 'completed' && r.ended_at !== null && r.answered_at !== null && r.stream_id !== null && tl.get(r.id)?.includes('call.ended'));
        return complete ? { rows, tl } : undefined;
      },
      60_000,
    );
    for (const r of converged.value.rows) expect(r.end_reason).toBe('default_flow_done');
    for (const id of ids) expect(converged.value.tl.get(id)?.[0]).toBe('call.started');
    const seqs = await cluster.query<{ call_id: string; n: string; max: number }>('SELECT call_id, count(*) AS n, max(seq) AS max FROM call_events WHERE call_id = ANY($1) GROUP BY call_id', [ids]);
    for (const s of seqs) expect(Number(s.n)).toBe(s.max); // no gaps: nothing lost
    const after = (await gw.api<{ events: { dropped: number; written: number; failedWrites: number }; callWrites: { retries: number; gaveUp: number; written: number } }>('/v1/metrics')).body;
    expect(after.events.dropped).toBe(0);
    expect(after.callWrites.gaveUp).toBe(0);
    report('database stopped', {
      outageMs,
      newCallWebhookToEndMs: webhookToEndMs,
      convergedAfterRestartMs: converged.ms,
      bufferedEventsDuringOutage: duringOutage.events.buffered,
      pendingCallWritesDuringOutage: duringOutage.callWrites.pending,
      eventWriteFailures: after.events.failedWrites,
      callWriteRetries: after.callWrites.retries,
      eventsDropped: after.events.dropped,
      callWritesGivenUp: after.callWrites.gaveUp,
      eventsPerCall: seqs.map((s) => Number(s.n)),
    });
    gw.signal('SIGTERM');
    expect((await gw.exited).code, gw.tail()).toBe(0);
  }, 180_000);

  it('PostgreSQL stopped, then frozen, as a gateway starts: it waits and says so, then serves calls once the server answers', async () => {
    await cluster.stop('fast');
    // With no waiting allowed, the start gives up at once and says where it looked and what to set.
    await expect(startGatewayProcess(env({ DATABASE_START_WAIT_MS: '0' }))).rejects.toThrow(/did not answer within 0 s \(DATABASE_START_WAIT_MS\)/);
    // Refused connections: the server starts only once the gateway has said it is waiting for it.
    let waiting!: () => void;
    const saidWaiting = new Promise<void>((r) => (waiting = r));
    const starting = startGatewayProcess(env(), { onLog: (l) => l.msg === 'PostgreSQL does not answer yet; waiting for it before starting' && waiting() }).then((gw) => {
      running.push(gw);
      return gw;
    });
    await Promise.race([saidWaiting, starting]);
    await sleep(500);
    await cluster.start();
    cluster.freeze(); // a server that accepts nothing and refuses nothing
    await sleep(3000);
    const thawed = performance.now();
    cluster.thaw();
    const gw = await starting;
    const listeningAfterThawMs = Math.round(performance.now() - thawed);
    expect(listeningAfterThawMs).toBeLessThan(10_000); // a hung connect times out (5 s), the next attempt answers
    const waits = gw.logs.filter((l) => l.msg === 'PostgreSQL does not answer yet; waiting for it before starting');
    expect(waits.map((l) => l.code), gw.logs.slice(0, 6).map((l) => JSON.stringify(l)).join('\n')).toContain('ECONNREFUSED');
    const result = await call(gw, { speed: 5 });
    expect(result.receivedAudioMs).toBeGreaterThan(2000);
    await until('the call recorded', async () => ((await calls([result.callId ?? '']))[0]?.status === 'completed' ? true : undefined), 20_000);
    report('database not answering at start', { attemptsLogged: waits.length, listeningAfterThawMs });
    gw.signal('SIGTERM');
    expect((await gw.exited).code, gw.tail()).toBe(0);
  }, 120_000);

  it('SIGKILL mid-call, then a new instance: the call is closed as gateway_lost and hung up, nothing else changed', async () => {
    const a = await start();
    const finished = await call(a, { speed: 5 });
    // Settled: the outcome is written behind the end, through the call's ordered writer.
    await until('first call recorded', async () => {
      const row = (await calls([finished.callId ?? '']))[0] as (CallRow & { outcome: string | null }) | undefined;
      return row?.end_reason === 'default_flow_done' && row.outcome !== null ? true : undefined;
    }, 20_000);
    const before = (await calls([finished.callId ?? '']))[0];
    const live = firstMark();
    const abort = new AbortController();
    const liveCall = call(a, { speed: 1, onEvent: live.onEvent, signal: abort.signal }).catch(() => undefined);
    await live.seen;
    await sleep(500);
    a.signal('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    abort.abort();
    await liveCall;
    const open = await until('the live call recorded before the crash', async () => (await cluster.query<CallRow>(`SELECT * FROM calls WHERE ended_at IS NULL AND stream_id IS NOT NULL`))[0], 10_000);
    expect(open.value.status).toBe('in-progress'); // what the crash left behind
    const hangupsBefore = carrier.requests.filter((r) => r.path.endsWith(`/Calls/${open.value.carrier_call_id}.json`)).length;

    const restartedAt = performance.now();
    const b = await start();
    const startMs = Math.round(performance.now() - restartedAt);
    const closed = await until('the lost call closed by the new instance', async () => {
      const row = (await calls([open.value.id]))[0];
      return row?.end_reason === 'gateway_lost' ? row : undefined;
    }, 30_000);
    expect(closed.value.status).toBe('completed');
    expect((await timelines([open.value.id])).get(open.value.id)?.at(-1)).toBe('call.ended');
    // The record is closed first, then the carrier is asked to hang up.
    const hangups = await until('the carrier hang-up of the lost call', async () => {
      const h = carrier.requests.filter((r) => r.path.endsWith(`/Calls/${open.value.carrier_call_id}.json`) && r.params.Status === 'completed');
      return h.length > hangupsBefore ? h : undefined;
    }, 10_000);
    expect((await calls([finished.callId ?? '']))[0]).toEqual(before); // nothing else changed
    report('SIGKILL mid-call', { newInstanceStartMs: startMs, lostCallClosedAfterStartMs: closed.ms, carrierHangups: hangups.value.length, instanceDeadAfterMs: 1000 });
    b.signal('SIGTERM');
    expect((await b.exited).code, b.tail()).toBe(0);
  }, 120_000);

  it(`SIGTERM with ${SCALE.sigtermCalls} live calls: new calls refused politely, live ones finish, events flushed, exit 0`, async () => {
    // A drain long enough for calls slowed by a loaded machine (CI runs every test file at once): the
    // scenario is that live calls finish, not that they finish within the default 20 s.
    const gw = await start({ MAX_CONCURRENT_CALLS: String(SCALE.sigtermCalls + 10), DRAIN_TIMEOUT_MS: '60000', SHUTDOWN_GRACE_MS: '75000' });
    // Calls long enough (about 12 s of speech) to be all live at once, short enough to finish in the drain.
    const text = 'Thank you for calling. This is a longer message, so that every call of this test is still going when the gateway is asked to stop. It ends by itself, well within the drain time. Goodbye.';
    expect((await gw.api('/v1/flows', { body: { id: 'long-call', start: 'talk', nodes: { talk: { type: 'say', text, next: 'bye' }, bye: { type: 'hangup', reason: 'long_call_done' } } } })).status).toBe(201);
    expect((await gw.api('/v1/numbers/+14155550166', { method: 'PUT', body: { flowId: 'long-call' } })).status).toBe(200);
    const live = Array.from({ length: SCALE.sigtermCalls }, () => replayCall({ carrier: 'twilio', audio: CALLER, url: gw.wsUrl, publicUrl: gw.httpUrl, authToken: TWILIO.token, to: '+14155550166', speed: 1, holdMs: 60_000 }));
    await until('all calls live', async () => ((await gw.api<{ activeCalls: number }>('/v1/metrics')).body.activeCalls >= SCALE.sigtermCalls ? true : undefined), 60_000);
    const sigtermAt = performance.now();
    gw.signal('SIGTERM');
    await sleep(100);
    const refused = await postVoiceWebhook({
      carrier: 'twilio',
      url: `${gw.httpUrl}/voice/twilio`,
      params: { CallSid: 'CA' + 'e'.repeat(32), AccountSid: TWILIO.sid, From: '+14155550100', To: '+14155550199' },
      authToken: TWILIO.token,
      publicUrl: gw.httpUrl,
    });
    expect(refused.body).toMatch(/<Say>.*<\/Say><Hangup\/>/);
    const results = await Promise.all(live);
    const exit = await gw.exited;
    const exitMs = Math.round(performance.now() - sigtermAt);
    expect(exit.code, gw.tail()).toBe(0);
    const ids = results.map((r) => r.callId ?? '');
    const rows = await calls(ids);
    const tl = await timelines(ids);
    expect(rows.length).toBe(SCALE.sigtermCalls);
    const reasons = new Map<string, number>();
    for (const r of rows) reasons.set(r.end_reason ?? 'none', (reasons.get(r.end_reason ?? 'none') ?? 0) + 1);
    for (const r of rows) {
      expect(r.status).toBe('completed');
      expect(r.end_reason).toBe('long_call_done'); // finished within the drain, not cut
      expect(tl.get(r.id)?.includes('call.ended')).toBe(true);
    }
    const stopped = gw.logs.find((l) => l.msg === 'stopped') as { callWrites?: { gaveUp: number }; events?: { dropped: number; buffered: number } } | undefined;
    expect(stopped?.events).toMatchObject({ dropped: 0, buffered: 0 });
    report('SIGTERM', { liveCalls: SCALE.sigtermCalls, exitAfterSigtermMs: exitMs, endReasons: Object.fromEntries(reasons), eventsWritten: [...tl.values()].reduce((n, t) => n + t.length, 0), stoppedLog: stopped });
  }, 180_000);

  it('SIGTERM as soon as it listens, while it warms its prompts: exit 0', async () => {
    // A fresh data folder: the shipped flows' prompts are still being synthesized when it is told to stop.
    const gw = await start();
    gw.signal('SIGTERM');
    expect((await gw.exited).code, gw.tail()).toBe(0);
  }, 60_000);

  it('carrier REST failing on hang-up (500, dropped socket; a timeout in chaos): the call still ends, the record is complete, the failure is logged', async () => {
    const gw = await start();
    const outcomes: Array<{ fault: string; endReason: string; status: string | undefined; end: string | null | undefined }> = [];
    for (const fault of [{ status: 500 }, { status: 0, drop: true }, ...(CHAOS ? [{ status: 200, delayMs: 11_000 }] : [])]) {
      carrier.fail({ ...fault, match: (req) => req.params.Status === 'completed' });
      const r = await call(gw, { speed: 5 });
      const row = await until('record', async () => {
        const c = (await calls([r.callId ?? '']))[0];
        return c?.ended_at !== null && c !== undefined ? c : undefined;
      }, 20_000);
      outcomes.push({ fault: 'drop' in fault ? 'drop' : 'delayMs' in fault ? 'timeout' : `http ${fault.status}`, endReason: r.endReason, status: row.value.status, end: row.value.end_reason });
      expect(r.endReason).toBe('gateway-closed'); // the caller is not left on an open line
      expect(row.value).toMatchObject({ status: 'completed', end_reason: 'default_flow_done' });
    }
    // The hang-up is asked for after the record is closed, so the last failure may be logged a little later.
    const hangupFailures = (): number => gw.logs.filter((l) => l.msg === 'carrier hang-up failed; closing the stream').length;
    await until('every hang-up failure logged', async () => (hangupFailures() >= (CHAOS ? 3 : 2) ? true : undefined), 15_000).catch(() => undefined);
    const failures = hangupFailures();
    expect(failures).toBe(CHAOS ? 3 : 2);
    report('carrier REST failing on hang-up', { outcomes, hangupFailuresLogged: failures });
    gw.signal('SIGTERM');
    expect((await gw.exited).code, gw.tail()).toBe(0);
  }, 120_000);

  it('carrier REST failing on transfer (500, dropped socket; a timeout in chaos): the caller hears the fallback, the record says what happened', async () => {
    const gw = await start();
    await deployShippedFlow(gw, 'ivr-menu');
    expect((await gw.api('/v1/departments/sales', { method: 'PUT', body: { numbers: ['+14155550123'], timeZone: 'America/New_York' } })).status).toBeLessThan(300);
    expect((await gw.api('/v1/numbers/+14155550188', { method: 'PUT', body: { flowId: 'ivr-menu' } })).status).toBe(200);
    const faults = [{ name: 'http 500', f: { status: 500 } }, { name: 'dropped socket', f: { status: 0, drop: true } }, ...(CHAOS ? [{ name: 'timeout', f: { status: 200, delayMs: 11_000 } }] : [])];
    const outcomes: Array<Record<string, unknown>> = [];
    for (const { name, f } of faults) {
      carrier.fail({ ...f, match: (req) => req.params.Twiml !== undefined });
      const started = performance.now();
      const r = await replayCall({ carrier: 'twilio', audio: CALLER, url: gw.wsUrl, publicUrl: gw.httpUrl, authToken: TWILIO.token, to: '+14155550188', speed: 5, holdMs: 60_000, dtmf: [{ digit: '1', atMs: 3000 }] });
      const rows = await until('timeline written', async () => {
        const ev = await cluster.query<{ type: string; data: Record<string, unknown> }>("SELECT type, COALESCE(data->'data', data) AS data FROM call_events WHERE call_id = $1 ORDER BY seq", [r.callId ?? '']);
        return ev.some((e) => e.type === 'call.ended') ? ev : undefined;
      }, 20_000);
      const nodes = rows.value.filter((e) => e.type === 'flow.node.entered').map((e) => e.data.node);
      const heard = rows.value.filter((e) => e.type === 'playout.finished').map((e) => Number(e.data.heardMs));
      const row = (await calls([r.callId ?? '']))[0];
      expect(nodes, JSON.stringify({ fault: name, endReason: r.endReason, events: rows.value.map((e) => e.type) })).toEqual(['welcome', 'menu', 'route', 'sales', 'transfer_failed', 'bye']);
      expect(heard.at(-1)).toBeGreaterThan(1000); // the apology after the failed transfer was heard
      expect(r.endReason).toBe('gateway-closed');
      expect(row).toMatchObject({ status: 'completed', end_reason: 'menu_done' });
      outcomes.push({ fault: name, nodes: nodes.slice(3).join('>'), apologyHeardMs: heard.at(-1), callWallMs: Math.round(performance.now() - started) });
    }
    report('carrier REST failing on transfer', { outcomes });
    gw.signal('SIGTERM');
    expect((await gw.exited).code, gw.tail()).toBe(0);
  }, 180_000);

  it('speech input dropping, the voice vendor failing and the LLM timing out: the fallback voice speaks, the call goes on', async () => {
    const openai = await startFakeOpenAi();
    try {
      const gw = await start({
        OPENAI_API_KEY: openai.apiKey,
        OPENAI_BASE_URL: openai.tlsBaseURL,
        NODE_EXTRA_CA_CERTS: fileURLToPath(new URL('../fakes/certs/cert.pem', import.meta.url)),
        TTS_ORDER: 'openai,offline',
      });
      await until('prompt cache warmed', async () => (gw.logs.some((l) => l.msg === 'prompt cache warmed') ? true : undefined), 60_000);
      await deployShippedFlow(gw, 'support-agent');
      expect((await gw.api('/v1/numbers/+14155550177', { method: 'PUT', body: { flowId: 'support-agent' } })).status).toBe(200);
      // Speech input: the first realtime socket drops at once; the second transcribes two questions.
      openai.realtime.push(
        [{ atAudioMs: 200, type: 'drop' }],
        [
          { atAudioMs: 400, type: 'speech_started' },
          { atAudioMs: 1100, type: 'speech_stopped' },
          { atAudioMs: 1200, type: 'completed', text: 'When are you open?' },
          { atAudioMs: 9000, type: 'speech_started' },
          { atAudioMs: 9700, type: 'speech_stopped' },
          { atAudioMs: 9800, type: 'completed', text: 'And on Sundays?' },
        ],
      );
      // Turn 1 is answered, but the voice drops mid-sentence; turn 2's LLM never answers, then fails.
      openai.chat.push({ text: ['We are open from nine to five.', ' Anything else?'] }, { fault: 'hang' }, { fault: 'http500' }, { fault: 'http500' });
      // The voice vendor fails every request from now on (HTTP 500): the welcome (templated, synthesized
      // at call time) and the agent's answers fall back to the offline voice.
      openai.speech.push(...Array.from({ length: 20 }, () => ({ fault: 'http500' as const })));
      const r = await replayCall({ carrier: 'twilio', audio: CALLER, url: gw.wsUrl, publicUrl: gw.httpUrl, authToken: TWILIO.token, to: '+14155550177', speed: 1, holdMs: 22_000, maxHoldMs: 22_000 });
      const events = await until('timeline written', async () => {
        const rows = await cluster.query<{ type: string; media_ms: number | null; data: Record<string, unknown> }>("SELECT type, media_ms, COALESCE(data->'data', data) AS data FROM call_events WHERE call_id = $1 ORDER BY seq", [r.callId ?? '']);
        return rows.some((e) => e.type === 'call.ended') ? rows : undefined;
      }, 20_000);
      const of = (type: string) => events.value.filter((e) => e.type === type);
      expect(openai.realtimeConnections.length).toBeGreaterThanOrEqual(2); // speech input reconnected
      expect(of('turn.transcript').map((e) => e.data.text)).toEqual(['When are you open?', 'And on Sundays?']);
      const fallback = of('agent.tts_fallback')[0];
      expect(fallback?.data).toMatchObject({ turn: 1 });
      const turn1 = of('turn.completed').find((e) => e.data.turn === 1);
      expect(Number(turn1?.data.heardMs)).toBeGreaterThan(1000); // the answer was heard, in the fallback voice
      expect(of('agent.filler').length).toBeGreaterThan(0); // while the LLM hangs, a filler, not dead air
      const failed = of('agent.provider_failed')[0];
      expect(failed?.data).toMatchObject({ turn: 2 });
      // After the LLM failure the caller is not left in silence: the apology plays.
      const failedAt = failed?.media_ms ?? Infinity;
      const after = events.value.filter((e) => e.type === 'playout.started' && (e.media_ms ?? -1) >= failedAt);
      expect(after.length).toBeGreaterThan(0);
      const row = (await calls([r.callId ?? '']))[0];
      expect(row?.status).toBe('completed');
      report('vendors failing', {
        realtimeConnections: openai.realtimeConnections.length,
        ttsFallback: fallback?.data,
        turn1HeardMs: turn1?.data.heardMs,
        llmFailure: failed?.data.code,
        llmFailureToApologyMediaMs: Math.round((after[0]?.media_ms ?? 0) - failedAt),
        transcriptToLlmFailureMediaMs: Math.round(failedAt - (of('turn.transcript')[1]?.media_ms ?? 0)),
        endReason: row?.end_reason,
      });
      gw.signal('SIGTERM');
      expect((await gw.exited).code, gw.tail()).toBe(0);
    } finally {
      await openai.close();
    }
  }, 180_000);

  it('a flood of webhooks and unauthenticated streams beyond the limits: extra calls refused in TwiML, live calls keep their audio', async () => {
    const gw = await start({ MAX_CONCURRENT_CALLS: '5' });
    const live = Array.from({ length: 5 }, () => call(gw, { speed: 1 }));
    await until('5 live calls', async () => ((await gw.api<{ activeCalls: number }>('/v1/metrics')).body.activeCalls >= 5 ? true : undefined), 30_000);
    await gw.api('/v1/metrics?reset=true');
    const floodStarted = performance.now();
    const webhooks = Array.from({ length: SCALE.floodWebhooks }, (_, i) =>
      postVoiceWebhook({
        carrier: 'twilio',
        url: `${gw.httpUrl}/voice/twilio`,
        params: { CallSid: `CA${String(i).padStart(32, '0')}`, AccountSid: TWILIO.sid, From: '+14155550100', To: '+14155550199' },
        authToken: TWILIO.token,
        publicUrl: gw.httpUrl,
      }).then((a) => a.body),
    );
    const streams = Array.from({ length: SCALE.floodStreams }, () =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${gw.wsUrl}/media/twilio`);
        ws.on('open', () => ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: 'MZx', start: { streamSid: 'MZx', callSid: 'CAx', accountSid: TWILIO.sid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { callId: 'x', from: '+1', to: '+2', direction: 'inbound', flowId: '', token: '1.forged' } } })));
        ws.on('close', (code) => resolve(code));
        ws.on('error', () => resolve(-1));
      }),
    );
    const bodies = await Promise.all(webhooks);
    const codes = await Promise.all(streams);
    const floodMs = Math.round(performance.now() - floodStarted);
    const duringFlood = (await gw.api<{ eventLoopDelayMs: { p99: number; max: number }; calls: { refusedCapacity: number } }>('/v1/metrics')).body;
    const refused = bodies.filter((b) => /<Say>.*<\/Say><Hangup\/>/.test(b)).length;
    expect(refused).toBe(SCALE.floodWebhooks);
    // Refused either at the upgrade (unsigned while Twilio credentials are set: the socket errors, -1)
    // or on `start` (forged token: 1008). None is served.
    expect(codes.every((c) => c === 1008 || c === -1)).toBe(true);
    const results = await Promise.all(live);
    for (const r of results) expect(r.receivedAudioMs).toBeGreaterThan(4000); // the whole greeting, not cut
    const rows = await until('live calls recorded', async () => {
      const c = await calls(results.map((r) => r.callId ?? ''));
      return c.every((x) => x.end_reason === 'default_flow_done') ? c : undefined;
    }, 20_000);
    expect(rows.value.length).toBe(5);
    report('flood', {
      webhooks: SCALE.floodWebhooks,
      refusedInTwiml: refused,
      unauthenticatedStreams: SCALE.floodStreams,
      closed1008: codes.filter((c) => c === 1008).length,
      floodMs,
      eventLoopDelayP99Ms: duringFlood.eventLoopDelayMs.p99,
      eventLoopDelayMaxMs: duringFlood.eventLoopDelayMs.max,
      liveCallsAudioMs: results.map((r) => r.receivedAudioMs),
    });
    gw.signal('SIGTERM');
    expect((await gw.exited).code, gw.tail()).toBe(0);
  }, 180_000);
});
