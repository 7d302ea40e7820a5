// One simulated outbound call, as the network runs it: initiated → ringing → (busy | failed |
// no-answer after the ring timeout | answered). Answered, it fetches the voice webhook (signed) and
// plays the callee into the media stream with the replay client (which speaks both carriers' stream
// protocols and echoes marks), until the gateway hangs up (REST update or closing the stream) or the
// callee's audio and hold run out. Status callbacks are signed and sent for the events asked for;
// the final status is always sent.
import { performance } from 'node:perf_hooks';
import { isAbortError, type GatewayError } from '../errors.ts';
import { replayCall } from '../replay/client.ts';
import { computeSignature, signatureHeaderFor } from '../telephony/signature.ts';
import type { Carrier } from '../telephony/types.ts';
import { DEFAULT_AUDIO, DEFAULT_HOLD_MS, dtmfOf, type Behavior, type FixtureCache } from './behaviors.ts';

export type SimStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';

export interface SimCall {
  sid: string;
  accountSid: string;
  carrier: Carrier;
  to: string;
  from: string;
  url: string;
  statusCallback: string | undefined;
  statusCallbackEvents: string[];
  timeoutS: number;
  behavior: Behavior;
  status: SimStatus;
  createdAtMs: number;
  answeredAtMs?: number;
  endedAtMs?: number;
  /** Aborted by a REST hang-up (or a redirect away from the stream). */
  readonly hangup: AbortController;
  /** The gateway's replay outcome, for tests. */
  streamEnd?: string;
  error?: string;
}

export interface LifecycleContext {
  speed: number;
  /** Where webhooks are really delivered, in order of preference (the URLs' origin is replaced; the original is signed). */
  deliverTo: string[];
  tokenFor(accountSid: string): string;
  fixtures: FixtureCache;
  /** Silence after the callee's audio while waiting for the gateway (media ms); default per behaviour. */
  holdMs: number | undefined;
  /** Longest a call stays up while the gateway is still talking (media ms). */
  maxHoldMs: number;
  signal: AbortSignal;
  onStatus?: (call: SimCall) => void;
}

const DEFAULT_RING_MS = 2000;

function deliverUrl(url: string, deliverTo: string | undefined): string {
  if (deliverTo === undefined) return url;
  const u = new URL(url);
  const d = new URL(deliverTo);
  return `${d.protocol}//${d.host}${u.pathname}${u.search}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const TERMINAL = new Set<SimStatus>(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

export async function runSimCall(call: SimCall, ctx: LifecycleContext): Promise<void> {
  const stop = AbortSignal.any([ctx.signal, call.hangup.signal]);
  const token = ctx.tokenFor(call.accountSid);
  let seq = 0;
  const status = async (s: SimStatus, event: string): Promise<void> => {
    call.status = s;
    if (TERMINAL.has(s)) call.endedAtMs = performance.now();
    ctx.onStatus?.(call);
    if (call.statusCallback === undefined) return;
    if (!TERMINAL.has(s) && !call.statusCallbackEvents.includes(event)) return;
    const params: Record<string, string> = {
      CallSid: call.sid,
      AccountSid: call.accountSid,
      From: call.from,
      To: call.to,
      CallStatus: s,
      Direction: 'outbound-api',
      ApiVersion: '2010-04-01',
      Timestamp: new Date().toUTCString(),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(seq++),
    };
    if (TERMINAL.has(s)) {
      const answered = call.answeredAtMs;
      params.CallDuration = String(answered === undefined ? 0 : Math.round((((call.endedAtMs ?? performance.now()) - answered) * ctx.speed) / 1000));
    }
    const signature = computeSignature(token, call.statusCallback, params);
    const targets = ctx.deliverTo.length > 0 ? ctx.deliverTo : [undefined];
    for (const target of targets) {
      try {
        await fetch(deliverUrl(call.statusCallback, target), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', [signatureHeaderFor(call.carrier)]: signature },
          body: new URLSearchParams(params).toString(),
          signal: AbortSignal.timeout(10_000),
        }).then((r) => r.body?.cancel());
        return;
      } catch (err) {
        // Like a load balancer, try the next instance; with none left the callback is lost, as a
        // carrier's would be after its retries (the gateway then asks the carrier for the call).
        call.error = `status callback ${s} failed: ${(err as Error).message}`;
      }
    }
  };

  try {
    await status('initiated', 'initiated');
    const ringMs = (call.behavior.ringMs ?? DEFAULT_RING_MS) / ctx.speed;
    if (call.behavior.kind === 'failed') {
      await sleep(Math.min(ringMs, 200), stop);
      await status('failed', 'completed');
      return;
    }
    await status('ringing', 'ringing');
    if (call.behavior.kind === 'no-answer') {
      await sleep((call.timeoutS * 1000) / ctx.speed, stop);
      await status(call.hangup.signal.aborted ? 'canceled' : 'no-answer', 'completed');
      return;
    }
    await sleep(ringMs, stop);
    if (stop.aborted) {
      await status('canceled', 'completed');
      return;
    }
    if (call.behavior.kind === 'busy') {
      await status('busy', 'completed');
      return;
    }
    call.answeredAtMs = performance.now();
    await status('in-progress', 'answered');
    const audio = await ctx.fixtures.load(call.behavior.audio ?? DEFAULT_AUDIO[call.behavior.kind]);
    const origin = new URL(call.url);
    const targets = ctx.deliverTo.length > 0 ? ctx.deliverTo : [undefined];
    let result: Awaited<ReturnType<typeof replayCall>> | undefined;
    for (let i = 0; i < targets.length && result === undefined; i++) {
      const deliver = deliverUrl(call.url, targets[i]);
      const d = new URL(deliver);
      try {
        result = await replayCall({
          carrier: call.carrier,
          audio,
          url: `${d.protocol === 'https:' ? 'wss:' : 'ws:'}//${d.host}`,
          speed: ctx.speed,
          dtmf: dtmfOf(call.behavior),
          holdMs: call.behavior.holdMs ?? ctx.holdMs ?? DEFAULT_HOLD_MS[call.behavior.kind === 'voicemail' ? 'voicemail' : 'human'],
          maxHoldMs: ctx.maxHoldMs,
          from: call.from,
          to: call.to,
          authToken: token,
          publicUrl: `${origin.protocol}//${origin.host}`,
          webhook: { url: deliver, params: { Direction: 'outbound-api', CallStatus: 'in-progress', From: call.from, To: call.to } },
          callSid: call.sid,
          accountSid: call.accountSid,
          signal: stop,
        });
      } catch (err) {
        // An instance that does not answer the webhook: the load balancer tries the next one.
        const e = err as GatewayError;
        if (e.code !== 'GW_ERR_REPLAY_WEBHOOK' || !e.retryable || i === targets.length - 1) throw err;
      }
    }
    if (result === undefined) throw new Error('no gateway answered the voice webhook');
    call.streamEnd = result.endReason;
    await status('completed', 'completed');
  } catch (err) {
    if (!isAbortError(err) && !stop.aborted) call.error = (err as Error).message;
    if (!TERMINAL.has(call.status)) await status(call.answeredAtMs === undefined ? (stop.aborted ? 'canceled' : 'failed') : 'completed', 'completed');
  }
}
