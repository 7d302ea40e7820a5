// Test doubles for the provider interfaces the runner takes (TextToSpeech, SpeechToText), a carrier
// REST double for hang-up/transfer, and a driver that feeds the call's media clock until the run ends.
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';
import type { TextToSpeech } from '../../src/agent/providers.ts';
import type { CarrierActions } from '../../src/call/CallSession.ts';
import type { CallEvent } from '../../src/call/events.ts';
import { runFlow, type FlowResult, type RunFlowOptions } from '../../src/flow/interpreter.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { createTestCall, type TestCall } from '../helpers/testCall.ts';

/** 10 ms of audio per character of text, in 100 ms chunks; records what it was asked to say. */
export class ScriptedTts implements TextToSpeech {
  readonly name = 'scripted';
  readonly said: string[] = [];
  failWith: Error | undefined;

  async *synthesize(text: string, opts: { signal: AbortSignal }): AsyncIterable<Uint8Array> {
    this.said.push(text);
    if (this.failWith !== undefined) throw this.failWith;
    let left = Math.round((text.length * 10 * SAMPLE_RATE_HZ) / 1000);
    while (left > 0) {
      if (opts.signal.aborted) return;
      const n = Math.min(800, left);
      yield new Uint8Array(n).fill(MULAW_SILENCE);
      left -= n;
      await Promise.resolve();
    }
  }
}

// The scripted speech-to-text is shared with the agent tests.
export { ScriptedStt } from '../fakes/scriptedStt.ts';

export class RecordingCarrier implements CarrierActions {
  hangups = 0;
  readonly transfers: Array<{ number: string; callerId?: string; timeoutS?: number }> = [];
  failTransfersTo = new Set<string>();

  async hangup(): Promise<void> {
    this.hangups++;
  }

  async transfer(target: { number: string; callerId?: string; timeoutS?: number }): Promise<void> {
    if (this.failTransfersTo.has(target.number)) throw new Error('carrier refused the transfer (test)');
    this.transfers.push(target);
  }
}

export interface FlowHarness {
  tc: TestCall;
  carrier: RecordingCarrier;
  run: Promise<FlowResult>;
  result: () => FlowResult | undefined;
  /** Feed silence until the run has ended (or `maxMs` of media passed); returns the result. */
  finish(maxMs?: number): Promise<FlowResult>;
  /** Feed `ms` of silence. */
  advance(ms: number): Promise<void>;
  /** Feed silence until an event matching `pred` is in the timeline. */
  until(pred: (e: CallEvent) => boolean, maxMs?: number): Promise<CallEvent>;
  flowEvents(): Array<{ type: string; data?: Record<string, unknown> }>;
  path(): string[];
}

export function startFlow(flow: FlowDefinition, opts: RunFlowOptions & { direction?: 'inbound' | 'outbound' } = {}): FlowHarness {
  const carrier = new RecordingCarrier();
  const tc = createTestCall({ carrierActions: carrier, direction: opts.direction ?? 'inbound' });
  let result: FlowResult | undefined;
  const run = runFlow(tc.session, flow, opts).then((r) => (result = r));
  const advance = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms && !tc.session.ended; t += 20) await tc.feedSilence(20);
  };
  return {
    tc,
    carrier,
    run,
    result: () => result,
    async finish(maxMs = 120_000) {
      for (let t = 0; t < maxMs && result === undefined && !tc.session.ended; t += 20) await tc.feedSilence(20);
      // Some nodes wait on wall time (an http request): keep the media going at a pace they can
      // follow, for up to 10 s of wall time, before declaring the run stuck.
      const deadline = performance.now() + 10_000;
      while (result === undefined && !tc.session.ended && performance.now() < deadline) {
        await tc.feedSilence(20);
        await new Promise((r) => setTimeout(r, 5));
      }
      // After the call ends the run settles within a few promise turns.
      for (let i = 0; i < 50 && result === undefined; i++) await new Promise((r) => setImmediate(r));
      if (result === undefined) throw new Error(`flow still running after ${maxMs} ms of media`);
      return result;
    },
    advance,
    async until(pred, maxMs = 60_000) {
      for (let t = 0; t <= maxMs; t += 20) {
        const hit = tc.events.find(pred);
        if (hit !== undefined) return hit;
        if (tc.session.ended) break;
        await tc.feedSilence(20);
      }
      throw new Error('expected event never came');
    },
    flowEvents: () => tc.events.filter((e) => e.type.startsWith('flow.')),
    path: () =>
      tc.events
        .filter((e) => e.type === 'flow.node.entered')
        .map((e) => String((e as { data?: Record<string, unknown> }).data?.node)),
  };
}

export const entered = (node: string) => (e: CallEvent): boolean => e.type === 'flow.node.entered' && (e as { data?: { node?: string } }).data?.node === node;
