// Drive a real CallSession without sockets: feed inbound audio on the media clock and let a simulated
// carrier play what the gateway sends, echoing marks when the audio before them has played and all
// pending marks on clear (as Twilio and SignalWire do). Between frames the event loop turns, as it
// does between websocket messages, so flows and agents see the same interleaving as on a live call.
import { readFileSync } from 'node:fs';
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { encodeMulaw } from '../../dsp/mulaw.ts';
import { decodeWavTo8k } from '../../dsp/wav.ts';
import { CallSession, type CallSessionOptions, type CallSink } from '../../src/call/CallSession.ts';
import type { CallEvent } from '../../src/call/events.ts';

export type SentMessage = { type: 'media'; bytes: Uint8Array } | { type: 'mark'; name: string } | { type: 'clear' } | { type: 'dtmf'; digit: string };

type QueueItem = { kind: 'audio'; bytes: Uint8Array; offset: number } | { kind: 'mark'; name: string };

export class SimulatedCarrier implements CallSink {
  readonly sent: SentMessage[] = [];
  /** Bytes the caller actually heard, in order. */
  readonly heard: number[] = [];
  readonly clearsAtMs: number[] = [];
  closed: { code: number; reason: string } | undefined;
  session: CallSession | undefined;
  private readonly queue: QueueItem[] = [];
  private readonly dtmfSupported: boolean;

  constructor(dtmfSupported: boolean) {
    this.dtmfSupported = dtmfSupported;
    if (dtmfSupported) this.sendDtmf = (digit: string) => this.sent.push({ type: 'dtmf', digit });
  }

  sendDtmf?: (digit: string) => void;

  sendMedia(mulaw: Uint8Array): void {
    const bytes = mulaw.slice();
    this.sent.push({ type: 'media', bytes });
    this.queue.push({ kind: 'audio', bytes, offset: 0 });
  }

  sendMark(name: string): void {
    this.sent.push({ type: 'mark', name });
    this.queue.push({ kind: 'mark', name });
    this.echoReadyMarks();
  }

  sendClear(): void {
    this.sent.push({ type: 'clear' });
    this.clearsAtMs.push(this.session?.mediaMs() ?? 0);
    const marks = this.queue.filter((q) => q.kind === 'mark');
    this.queue.length = 0;
    for (const m of marks) queueMicrotask(() => this.session?.receiveMark(m.name));
  }

  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }

  /** Play `samples` of queued audio (the carrier's real-time playback). */
  tick(samples: number): void {
    let left = samples;
    while (left > 0 && this.queue.length > 0) {
      const head = this.queue[0] as QueueItem;
      if (head.kind === 'mark') {
        this.echoReadyMarks();
        continue;
      }
      const take = Math.min(left, head.bytes.length - head.offset);
      for (let i = 0; i < take; i++) this.heard.push(head.bytes[head.offset + i] as number);
      head.offset += take;
      left -= take;
      if (head.offset === head.bytes.length) this.queue.shift();
    }
    this.echoReadyMarks();
  }

  private echoReadyMarks(): void {
    while (this.queue[0]?.kind === 'mark') {
      const { name } = this.queue.shift() as { kind: 'mark'; name: string };
      queueMicrotask(() => this.session?.receiveMark(name));
    }
  }

  /** Outbound media bytes sent (whether or not heard). */
  sentAudioBytes(): number {
    return this.sent.reduce((n, m) => n + (m.type === 'media' ? m.bytes.length : 0), 0);
  }
}

export interface TestCall {
  session: CallSession;
  carrier: SimulatedCarrier;
  events: CallEvent[];
  /** Feed 8 kHz PCM as 20 ms media messages, turning the event loop between frames. */
  feed(pcm: Int16Array): Promise<void>;
  feedSilence(ms: number): Promise<void>;
  feedWav(path: string): Promise<void>;
  dtmf(digit: string): void;
  eventsOfType<T extends CallEvent['type']>(type: T): Extract<CallEvent, { type: T }>[];
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

export function createTestCall(opts: Partial<CallSessionOptions> = {}): TestCall {
  const carrierName = opts.carrier ?? 'twilio';
  const carrier = new SimulatedCarrier(carrierName === 'signalwire');
  const events: CallEvent[] = [];
  const silentLog = { debug() {}, info() {}, warn() {}, error() {} };
  const session = new CallSession({
    callId: 'call-test',
    carrier: carrierName,
    direction: 'inbound',
    from: '+14155550100',
    to: '+14155550199',
    streamId: 'MZ0000',
    carrierCallId: 'CA0000',
    parameters: {},
    input: { encoding: 'mulaw', sampleRateHz: SAMPLE_RATE_HZ },
    sink: carrier,
    timeline: { append: (_id, e) => events.push(e) },
    log: silentLog,
    ...opts,
  });
  carrier.session = session;

  const feed = async (pcm: Int16Array): Promise<void> => {
    const frame = new Int16Array(FRAME_SAMPLES);
    for (let off = 0; off < pcm.length && !session.ended; off += FRAME_SAMPLES) {
      frame.fill(0);
      frame.set(pcm.subarray(off, Math.min(pcm.length, off + FRAME_SAMPLES)));
      session.receiveMedia(encodeMulaw(frame));
      carrier.tick(FRAME_SAMPLES);
      await turn();
    }
  };

  return {
    session,
    carrier,
    events,
    feed,
    feedSilence: (ms) => feed(new Int16Array(Math.round((ms * SAMPLE_RATE_HZ) / 1000))),
    feedWav: (path) => feed(decodeWavTo8k(readFileSync(path))),
    dtmf: (digit) => session.receiveDtmf(digit),
    eventsOfType: <T extends CallEvent['type']>(type: T) => events.filter((e): e is Extract<CallEvent, { type: T }> => e.type === type),
  };
}
