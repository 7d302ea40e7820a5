// Turn-latency benchmark for the conversational agent: N calls in one process, each a real
// CallSession with a simulated carrier (plays what is sent in real time on the media clock, echoes
// marks, drops the queue on clear), and providers that answer instantly in-process. It measures what
// the gateway itself adds to a caller's wait — commit of the caller's turn → first audio written to the
// carrier, minus provider time — and barge-in latency (caller speech start → `clear` sent).
// All calls advance in lockstep, 20 ms of media per step, with one event-loop turn between steps, as
// a busy process serving N live streams would. `node bench/agent.ts [--short] [--concurrency N]`.
import { parseArgs } from 'node:util';
import { FRAME_SAMPLES } from '../dsp/frame.ts';
import { encodeMulawSample, MULAW_SILENCE } from '../dsp/mulaw.ts';
import type { LanguageModel, LlmChunk, SpeechToText, SttEvent, SttStream, TextToSpeech } from '../src/agent/providers.ts';
import { AgentSession } from '../src/agent/session.ts';
import { TtsCache } from '../src/agent/tts/cache.ts';
import { AsyncQueue } from '../src/agent/asyncQueue.ts';
import { CallSession, type CallSink } from '../src/call/CallSession.ts';
import type { CallEvent } from '../src/call/events.ts';

export interface AgentBenchRow {
  name: string;
  calls: number;
  samples: number;
  unit: 'ms';
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The target for this figure, when it has one. */
  target?: number;
  pass?: boolean;
  note: string;
}

const REPLY = 'Sure, I can help with that. What is your account number?';
const SPEECH_MS = 600;
const QUIET_FRAME = new Uint8Array(FRAME_SAMPLES).fill(MULAW_SILENCE);
const LOUD_FRAME = (() => {
  const f = new Uint8Array(FRAME_SAMPLES);
  for (let i = 0; i < f.length; i++) f[i] = encodeMulawSample(Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / 8000)));
  return f;
})();
/** 1.5 s of audio per sentence: long enough for a barge-in to land mid-sentence. */
const SENTENCE_AUDIO = new Uint8Array(12_000).fill(0x7e);

class InstantLlm implements LanguageModel {
  readonly name = 'instant-llm';
  async *stream(): AsyncGenerator<LlmChunk> {
    for (const word of REPLY.split(/(?<= )/)) yield { type: 'text', text: word };
  }
}

class InstantTts implements TextToSpeech {
  readonly name = 'instant-tts';
  async *synthesize(): AsyncGenerator<Uint8Array> {
    yield SENTENCE_AUDIO;
  }
}

/** Finals are released when the caller's script says so (instant recognition). */
class InstantStt implements SpeechToText {
  readonly name = 'instant-stt';
  queue: AsyncQueue<SttEvent> | undefined;
  open(o: { signal: AbortSignal }): SttStream {
    const q = new AsyncQueue<SttEvent>();
    this.queue = q;
    o.signal.addEventListener('abort', () => q.end(), { once: true });
    return { write: () => {}, close: () => q.end(), [Symbol.asyncIterator]: () => q[Symbol.asyncIterator]() };
  }
  final(text: string): void {
    this.queue?.push({ type: 'final', text });
  }
}

/** The carrier: plays sent audio in real time (per fed frame), echoes marks once played, clears. */
class BenchCarrier implements CallSink {
  session: CallSession | undefined;
  private queue: ({ bytes: number } | { mark: string })[] = [];
  firstMediaWall = 0;
  clears: { atMs: number; wall: number }[] = [];

  sendMedia(mulaw: Uint8Array): void {
    if (this.firstMediaWall === 0) this.firstMediaWall = performance.now();
    this.queue.push({ bytes: mulaw.length });
  }
  sendMark(name: string): void {
    this.queue.push({ mark: name });
  }
  sendClear(): void {
    this.clears.push({ atMs: this.session?.mediaMs() ?? 0, wall: performance.now() });
    const marks = this.queue.filter((q): q is { mark: string } => 'mark' in q);
    this.queue = [];
    for (const m of marks) this.session?.receiveMark(m.mark);
  }
  close(): void {}
  tick(samples: number): void {
    let left = samples;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if ('mark' in head) {
        this.queue.shift();
        this.session?.receiveMark(head.mark);
        continue;
      }
      if (left <= 0) break;
      const take = Math.min(left, head.bytes);
      head.bytes -= take;
      left -= take;
      if (head.bytes === 0) this.queue.shift();
    }
  }
}

interface BenchCall {
  session: CallSession;
  carrier: BenchCarrier;
  stt: InstantStt;
  events: CallEvent[];
  outcome: Promise<unknown>;
  speechStartWall: number;
  startWall: number;
}

const noLog = { debug() {}, info() {}, warn() {}, error() {} };

function makeCall(i: number, cache: TtsCache, greeting: boolean): BenchCall {
  const startWall = performance.now();
  const carrier = new BenchCarrier();
  const events: CallEvent[] = [];
  const session = new CallSession({
    callId: `bench-${i}`,
    carrier: 'twilio',
    direction: 'inbound',
    from: '+14155550100',
    to: '+14155550199',
    streamId: `MZ${i}`,
    carrierCallId: `CA${i}`,
    parameters: {},
    input: { encoding: 'mulaw', sampleRateHz: 8000 },
    sink: carrier,
    timeline: { append: (_id, e) => events.push(e) },
    log: noLog,
  });
  carrier.session = session;
  const stt = new InstantStt();
  const tts = new InstantTts();
  const agent = new AgentSession(
    session,
    { instructions: 'bench', tools: ['end'], ...(greeting ? { greeting: 'Thanks for calling.' } : {}), noInputMs: 60_000 },
    {},
    // The bench emits exact speech events, so there is no VAD onset or hangover to undo.
    { stt, llm: new InstantLlm(), tts, ttsCache: cache, fillerAfterMs: 60_000, vadOnsetMs: 0, vadHangoverMs: 0 },
    session.signal,
  );
  return { session, carrier, stt, events, outcome: agent.run(), speechStartWall: 0, startWall };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function row(name: string, calls: number, values: number[], note: string, target?: number, targetPercentile = 99): AgentBenchRow {
  const s = [...values].sort((a, b) => a - b);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const out: AgentBenchRow = { name, calls, samples: s.length, unit: 'ms', p50: r3(percentile(s, 50)), p95: r3(percentile(s, 95)), p99: r3(percentile(s, 99)), max: r3(s.at(-1) ?? Number.NaN), note };
  if (target !== undefined) {
    out.target = target;
    out.pass = percentile(s, targetPercentile) <= target;
  }
  return out;
}

/** One caller turn is a 6 s cycle of 20 ms frames (see `plan`). */
const CYCLE_FRAMES = 320;
const SPEECH_FRAMES = SPEECH_MS / 20;
const BARGE_AT_FRAME = 75; // ~500 ms into the answer (endpointing 400 ms, then first audio)
const BARGE_FRAMES = 45;

/**
 * Run `turns` caller turns on `calls` concurrent calls. Each turn: 600 ms of caller speech, an
 * instant final transcript, the agent's answer; on odd turns the caller barges in ~400 ms into it
 * and the barge-in's words become the next answer. Calls are staggered across the cycle, as turn
 * ends of independent calls are, so the figures describe a loaded process rather than 200 calls
 * finishing their sentences on the same millisecond.
 */
async function runCalls(calls: number, turns: number): Promise<{ overhead: number[]; total: number[]; bargeMedia: number[]; bargeWall: number[]; greeting: number[] }> {
  const cache = new TtsCache(new InstantTts());
  await cache.prefetch(['Thanks for calling.', 'Are you still there?', 'One moment, please.', "Sorry, I'm having trouble right now. Could you say that again?"], new AbortController().signal);
  const all: BenchCall[] = [];
  // Calls arrive one after another (a turn of the event loop apart), each greeted from the cache.
  for (let i = 0; i < calls; i++) {
    all.push(makeCall(i, cache, true));
    await turn();
  }
  const greeting = all.map((c) => c.carrier.firstMediaWall - c.startWall);
  const offsets = all.map((_, i) => 90 + ((i * 13) % CYCLE_FRAMES)); // after the 1.5 s greeting
  const bargeStarts: { call: BenchCall; atMs: number; wall: number; clearsBefore: number }[] = [];
  const totalFrames = 90 + CYCLE_FRAMES * (turns + 1);
  for (let f = 0; f < totalFrames; f++) {
    for (let i = 0; i < calls; i++) {
      const c = all[i]!;
      const local = f - offsets[i]!;
      const k = Math.floor(local / CYCLE_FRAMES);
      const p = local - k * CYCLE_FRAMES;
      const active = local >= 0 && k < turns;
      const barge = k % 2 === 1;
      let loud = false;
      if (active) {
        if (p === 0) c.session.emit({ type: 'speech.started', atMs: c.session.mediaMs() });
        if (p === SPEECH_FRAMES) {
          c.session.emit({ type: 'speech.stopped', atMs: c.session.mediaMs(), durationMs: SPEECH_MS });
          c.stt.final('I would like to check my balance.');
        }
        loud = p < SPEECH_FRAMES;
        if (barge) {
          if (p === BARGE_AT_FRAME) {
            bargeStarts.push({ call: c, atMs: c.session.mediaMs(), wall: performance.now(), clearsBefore: c.carrier.clears.length });
            c.session.emit({ type: 'speech.started', atMs: c.session.mediaMs() });
          }
          if (p === BARGE_AT_FRAME + BARGE_FRAMES) {
            c.session.emit({ type: 'speech.stopped', atMs: c.session.mediaMs(), durationMs: BARGE_FRAMES * 20 });
            c.stt.final('No, I meant my last invoice.');
          }
          loud ||= p >= BARGE_AT_FRAME && p < BARGE_AT_FRAME + BARGE_FRAMES;
        }
      }
      c.session.receiveMedia(loud ? LOUD_FRAME : QUIET_FRAME);
      c.carrier.tick(FRAME_SAMPLES);
    }
    await turn();
  }
  const overhead: number[] = [];
  const total: number[] = [];
  for (const c of all) {
    for (const e of c.events) {
      if (e.type !== 'turn.first_audio') continue;
      const d = e.data as { gatewayOverheadMs: number; commitToAudioWallMs: number };
      overhead.push(d.gatewayOverheadMs);
      total.push(d.commitToAudioWallMs);
    }
  }
  const bargeMedia: number[] = [];
  const bargeWall: number[] = [];
  for (const b of bargeStarts) {
    const clear = b.call.carrier.clears[b.clearsBefore];
    if (!clear) continue;
    bargeMedia.push(clear.atMs - b.atMs);
    bargeWall.push(clear.wall - b.wall);
  }
  for (const c of all) c.session.end('bench done');
  await Promise.all(all.map((c) => c.outcome));
  return { overhead, total, bargeMedia, bargeWall, greeting };
}

export async function runTurnLatencyBench(opts: { short?: boolean; concurrency?: number } = {}): Promise<AgentBenchRow[]> {
  const n = opts.concurrency ?? (opts.short ? 50 : 200);
  const turns = opts.short ? 4 : 10;
  const rows: AgentBenchRow[] = [];
  // Warm-up (JIT, first-use code paths) so the figures describe the steady state of a running gateway.
  await runCalls(2, 2);
  for (const calls of [1, n]) {
    const r = await runCalls(calls, calls === 1 ? turns * 5 : turns);
    rows.push(row('agent.turn.gateway_overhead', calls, r.overhead, 'commit of the caller turn → first audio written, minus LLM-to-first-sentence and TTS-to-first-byte (instant in-process providers)', 5));
    rows.push(row('agent.turn.commit_to_first_audio', calls, r.total, 'wall time from end-of-turn decision to first audio, providers included (instant)'));
    rows.push(row('agent.barge_in.clear_latency_media', calls, r.bargeMedia, 'caller speech start → clear sent, on the media clock (barge-in minimum speech 120 ms)', 150));
    rows.push(row('agent.barge_in.clear_latency_wall', calls, r.bargeWall, 'speech.started event → clear sent, wall clock (the 120 ms wait included, paced by media)'));
    rows.push(row('agent.greeting.start', calls, r.greeting, 'agent start → first greeting audio written (cached TTS)', 50));
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { short: { type: 'boolean' }, concurrency: { type: 'string' }, json: { type: 'boolean' } } });
  const rows = await runTurnLatencyBench({ short: values.short ?? false, ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}) });
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else console.table(rows.map(({ note: _note, ...r }) => r));
}
