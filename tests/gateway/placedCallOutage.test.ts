// An outbound call placed by one gateway instance is answered by another — the carrier's webhook lands
// wherever the load balancer (or the cluster's shared port) sends it — while the PostgreSQL server they
// share is frozen (SIGSTOP: every query hangs) or stopped (every connection refused). The webhook URL
// carries the call's signed context, so the instance that did not place the call answers with the
// stream at once, the person who picked up hears the flow's greeting, and the record converges (carrier
// call id, status, end) once the server is back. A URL without the context (a call placed before the
// upgrade) still waits for the database: that is what every outbound webhook did before.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { composeGateway, type Composition } from '../../src/composition.ts';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall } from '../../src/replay/client.ts';
import { postVoiceWebhook } from '../../src/replay/webhook.ts';
import { computeSignature } from '../../src/telephony/signature.ts';
import { CONTEXT_GRACE_S, verifyPlacedContext } from '../../src/gateway/placedContext.ts';
import type { CallRecord } from '../../src/store/calls.ts';
import { startPostgresCluster, type PostgresCluster } from '../faults/helpers/postgresCluster.ts';
import { startFakeCarrier, type FakeCarrier } from '../fakes/carrier.ts';
import { PUBLIC_URL } from '../helpers/gateway.ts';

const TWILIO = { sid: 'AC0123456789abcdef0123456789abcdef', token: 'twilio-outage-test-token-0123' };
const SECRET = 'outage-test-stream-token-secret-0123456789abcdef';
/** The webhook's answer while the database is frozen or stopped: it waits VOICE_WEBHOOK_DB_WAIT_MS (150 ms) for the record at most. */
const ANSWER_BOUND_MS = 500;

const FLOW = {
  id: 'ctx-greeting',
  start: 'greet',
  nodes: {
    // A recorded greeting (heard at once) and a line with the call's variable (synthesized per call).
    greet: { type: 'say', audio: 'greeting.wav', next: 'name' },
    name: { type: 'say', text: "Hello {{contact.firstName ?? 'there'}}.", next: 'bye' },
    bye: { type: 'hangup', reason: 'done' },
  },
};

interface Instance {
  runtime: Composition;
  app: FastifyInstance;
  httpUrl: string;
  wsUrl: string;
  dataDir: string;
  api(pathname: string, body?: unknown): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies of many shapes
}

async function startInstance(databaseUrl: string, carrierUrl: string, apiKey: string): Promise<Instance> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-ctx-'));
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    PUBLIC_URL,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    STREAM_TOKEN_SECRET: SECRET,
    CAMPAIGN_ENGINE: 'false',
    TWILIO_ACCOUNT_SID: TWILIO.sid,
    TWILIO_AUTH_TOKEN: TWILIO.token,
    TWILIO_API_BASE_URL: carrierUrl,
  };
  const config = loadConfig(env, path.resolve(import.meta.dirname, '../..'));
  const runtime = await composeGateway(config, pino({ level: 'silent' }), { apiKey });
  const app = await buildApp({ ...runtime.appDeps, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await runtime.warmedUp;
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    runtime,
    app,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    dataDir,
    api: async (pathname, body) => {
      const res = await fetch(`${httpUrl}${pathname}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    },
  };
}

const waitFor = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('an outbound call answered on another instance while PostgreSQL is frozen or stopped', () => {
  let cluster: PostgresCluster;
  let carrier: FakeCarrier;
  let placing: Instance;
  let answering: Instance;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    carrier = await startFakeCarrier({ [TWILIO.sid]: TWILIO.token });
    placing = await startInstance(cluster.url, carrier.baseUrl, 'placing-instance-api-key-0123456789');
    answering = await startInstance(cluster.url, carrier.baseUrl, 'answering-instance-api-key-012345678');
    expect((await placing.api('/v1/flows', FLOW)).status).toBeLessThan(300);
    // The answering instance has loaded the flow (as the change feed makes every instance do after a deploy).
    await waitFor('the flow on the answering instance', () => answering.runtime.appDeps.routes.resolver.load(FLOW.id), (f) => f !== undefined, 10_000);
  }, 120_000);
  afterAll(async () => {
    cluster?.thaw();
    for (const i of [answering, placing]) {
      if (i === undefined) continue;
      await i.app.close();
      await i.runtime.close(500);
      await rm(i.dataDir, { recursive: true, force: true });
    }
    await carrier?.close();
    await cluster?.destroy();
  });

  /** Places a call through the placing instance's REST API; the answering instance does not hold it in memory. */
  const place = async (to: string): Promise<{ id: string; sid: string; url: string; statusCallback: string }> => {
    const placed = await placing.api('/v1/calls', { to, from: '+15005550006', flowId: FLOW.id, amd: false, variables: { contact: { firstName: 'Ada' } } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const fake = carrier.calls.get(placed.body.carrierCallId);
    const id = placed.body.id as string;
    expect(fake?.url).toMatch(new RegExp(`^${PUBLIC_URL}/voice/twilio\\?callId=${id}&ctx=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
    expect(fake?.statusCallback).toBe(fake?.url?.replace('/voice/', '/status/'));
    // Signed with the secret every instance shares; good for the ring timeout (60 s) plus the grace hour.
    const ctx = new URL(fake?.url ?? '').searchParams.get('ctx') ?? '';
    const verdict = verifyPlacedContext(SECRET, id, 'twilio', ctx);
    expect(verdict).toMatchObject({ ok: true, context: { callId: id, carrier: 'twilio', direction: 'outbound', flowId: FLOW.id, amd: false } });
    const expiresAt = verdict.ok ? verdict.context.expiresAt : 0;
    expect(Math.abs(expiresAt - (Date.now() / 1000 + 60 + CONTEXT_GRACE_S))).toBeLessThan(30);
    // The change feed announces the call to the other instance; its memory is dropped, as it is when
    // the announcement is missed (the server froze before delivering it, a restart, another region).
    const mem = answering.runtime.appDeps.calls.placed;
    await waitFor('the announcement', async () => mem?.has(id), (v) => v === true, 5_000);
    mem?.forget(id);
    return { id, sid: placed.body.carrierCallId, url: fake?.url ?? '', statusCallback: fake?.statusCallback ?? '' };
  };
  const local = (url: string): string => url.replace(PUBLIC_URL, answering.httpUrl);
  const webhookParams = (to: string) => ({ Direction: 'outbound-api', CallStatus: 'in-progress', From: '+15005550006', To: to, AccountSid: TWILIO.sid });
  const answerTimed = async (call: { sid: string; url: string }, to: string): Promise<{ ms: number; parameters: Record<string, string> }> => {
    const t0 = performance.now();
    const answer = await postVoiceWebhook({ carrier: 'twilio', url: local(call.url), publicUrl: PUBLIC_URL, authToken: TWILIO.token, params: { CallSid: call.sid, ...webhookParams(to) } });
    return { ms: performance.now() - t0, parameters: answer.twiml.stream?.parameters ?? {} };
  };
  const statusCallback = async (call: { sid: string; statusCallback: string }, callStatus: string): Promise<{ status: number; ms: number }> => {
    const params = { CallSid: call.sid, AccountSid: TWILIO.sid, CallStatus: callStatus };
    const t0 = performance.now();
    const res = await fetch(local(call.statusCallback), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(TWILIO.token, call.statusCallback, params) },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, ms: performance.now() - t0 };
  };
  /** The person picks up and listens: the carrier fetches the webhook again (its retry) and streams. */
  const pickUp = (call: { sid: string; url: string }, to: string) =>
    replayCall({
      carrier: 'twilio',
      authToken: TWILIO.token,
      publicUrl: PUBLIC_URL,
      webhook: { url: local(call.url), params: webhookParams(to) },
      callSid: call.sid,
      from: '+15005550006',
      to,
      audio: decodeWav(readFileSync(new URL('../../fixtures/speech/hello.wav', import.meta.url))),
      url: answering.wsUrl,
      speed: 5,
      holdMs: 20_000,
    });
  /** The person picks up: greeted to the end on the call we placed, then the carrier's completed callback is taken. */
  const expectGreeted = async (call: { id: string; sid: string; url: string; statusCallback: string }, to: string, database: string, firstAudioBoundMs = 3000): Promise<void> => {
    const result = await pickUp(call, to);
    // The flow starts once the variables read gives up (800 ms, composition.ts, or at once on a
    // database already known to be stalled): the greeting follows.
    console.log(`[ctx] first audio after the stream's start, PostgreSQL ${database}: ${result.firstAudio?.wallMs.toFixed(0)} ms`);
    expect(result.firstAudio?.wallMs).toBeLessThan(firstAudioBoundMs);
    expect(result.callId).toBe(call.id);
    expect(result.endReason).toBe('gateway-closed');
    expect(result.receivedAudioMs).toBeGreaterThan(1000);
    expect((await statusCallback(call, 'completed')).status).toBe(204);
  };
  const converged = (id: string, sid: string): Promise<CallRecord | null> =>
    waitFor('the record to converge', () => answering.runtime.appDeps.calls.get(id), (c) => c !== null && c.carrierCallId === sid && c.status === 'completed' && c.endReason !== null && c.answeredAt !== null, 30_000);

  it('with a healthy database, the record is read within the budget and the variables reach the flow', async () => {
    const call = await place('+14155550160');
    const { parameters } = await answerTimed(call, '+14155550160');
    expect(parameters).toMatchObject({ callId: call.id, flowId: FLOW.id, amd: 'off' });
    const result = await pickUp(call, '+14155550160');
    expect(result.callId).toBe(call.id);
    console.log(`[ctx] first audio after the stream's start, healthy database: ${result.firstAudio?.wallMs.toFixed(0)} ms`);
    await answering.app.gateway.settle();
    await answering.runtime.appDeps.eventLog.flush();
    const { body } = await answering.api(`/v1/calls/${call.id}`);
    const prompts = (body.events as Array<{ type: string; data?: { text?: string } }>).filter((e) => e.type === 'flow.prompt').map((e) => e.data?.text);
    expect(prompts).toContain('Hello Ada.');
  }, 60_000);

  it('frozen (SIGSTOP): answered in < 500 ms from the context, greeted, and converged once the server runs again', async () => {
    const call = await place('+14155550161');
    cluster.freeze();
    const frozenAt = performance.now();
    try {
      // Before: the same call's URL without its context waits for the database.
      let oldAnswered = false;
      const old = answerTimed({ sid: call.sid, url: call.url.replace(/&ctx=[^&]+/, '') }, '+14155550161').finally(() => (oldAnswered = true));
      const answer = await answerTimed(call, '+14155550161');
      console.log(`[ctx] outbound webhook on the other instance, PostgreSQL frozen: ${answer.ms.toFixed(0)} ms`);
      expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(answer.parameters).toMatchObject({ callId: call.id, flowId: FLOW.id, amd: 'off', direction: 'outbound' });
      const ringing = await statusCallback(call, 'in-progress');
      expect(ringing.status).toBe(204);
      // The carrier's retried webhook got the same call, and the greeting played to the end.
      await expectGreeted(call, '+14155550161', 'frozen');
      expect(oldAnswered).toBe(false);
      const frozenMs = performance.now() - frozenAt;
      cluster.thaw();
      const late = await old;
      console.log(`[ctx] the same webhook without its context (before): ${late.ms.toFixed(0)} ms (frozen for ${frozenMs.toFixed(0)} ms)`);
      // It waited out the whole freeze — the person would have heard silence — and by then the call
      // had ended here, so it is refused rather than started again.
      expect(late.ms).toBeGreaterThan(frozenMs - 100);
      expect(late.parameters.callId).toBeUndefined();
    } finally {
      cluster.thaw();
    }
    const record = await converged(call.id, call.sid);
    expect(record).toMatchObject({ direction: 'outbound', flowId: FLOW.id, status: 'completed' });
    await answering.runtime.appDeps.eventLog.flush();
    const { body } = await answering.api(`/v1/calls/${call.id}`);
    const types = (body.events as Array<{ type: string }>).map((e) => e.type);
    expect(types).toContain('flow.started');
    expect(types).toContain('playout.started');
    expect(types).toContain('call.ended');
  }, 90_000);

  it('frozen for a while: a call set up once the database is known stalled starts its flow at once, and converges after the thaw', async () => {
    const call = await place('+14155550163');
    cluster.freeze();
    try {
      const answer = await answerTimed(call, '+14155550163');
      expect(answer.parameters).toMatchObject({ callId: call.id, flowId: FLOW.id });
      // The webhook's read of the record is still waiting: a second on, nothing has been answered for
      // longer than a set-up read's 800 ms bound, so the stream's set-up reads do not wait it out again.
      await new Promise((r) => setTimeout(r, 1200));
      expect(answering.runtime.appDeps.db.progress.stalledMs()).toBeGreaterThanOrEqual(1000);
      await expectGreeted(call, '+14155550163', 'frozen, known stalled', 400);
    } finally {
      cluster.thaw();
    }
    expect(await converged(call.id, call.sid)).toMatchObject({ direction: 'outbound', flowId: FLOW.id, status: 'completed' });
    await waitFor('the database answering again', async () => answering.runtime.appDeps.db.progress.stalledMs(), (ms) => ms === 0, 10_000);
  }, 90_000);

  it('stopped: answered in < 500 ms from the context, greeted, and converged once the server is started again', async () => {
    const call = await place('+14155550162');
    await cluster.stop('fast');
    try {
      const answer = await answerTimed(call, '+14155550162');
      console.log(`[ctx] outbound webhook on the other instance, PostgreSQL stopped: ${answer.ms.toFixed(0)} ms`);
      expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(answer.parameters).toMatchObject({ callId: call.id, flowId: FLOW.id });
      expect((await statusCallback(call, 'in-progress')).status).toBe(204);
      await expectGreeted(call, '+14155550162', 'stopped');
    } finally {
      await cluster.start();
    }
    const record = await converged(call.id, call.sid);
    expect(record).toMatchObject({ direction: 'outbound', flowId: FLOW.id });
  }, 90_000);
});
