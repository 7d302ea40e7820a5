// Many carrier calls from one process at little CPU, so that the load generator (which shares the
// machine with the gateway it measures) does not take the cores it is there to measure. A real carrier
// per call, on the wire: the signed-form voice webhook, <Connect><Stream>, `connected`/`start`, 20 ms
// mu-law media frames paced in real time, marks echoed once their audio has played (a `clear` echoes
// them at once), `stop` and a close. What makes it cheap, compared with the replay client (which
// keeps a full timeline and the heard audio of one call):
// - every frame's base64 payload is encoded once per job and shared by all calls; a media message is
//   a string concatenation around it (no JSON.stringify, no per-frame base64);
// - one timer per SLOT_MS drives every call (calls are spread over the slots of a 20 ms frame, so
//   frames still reach the gateway evenly, as independent carrier calls' do), not one per call;
// - the client masks its frames with a zero mask, which `ws` then skips (the gateway still unmasks
//   every frame as it would a carrier's);
// - the gateway's audio is measured from the base64 length and never decoded.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { FRAME_MS } from '../../dsp/frame.ts';
import { encodeMulaw } from '../../dsp/mulaw.ts';
import type { PcmAudio } from '../../dsp/wav.ts';
import { postVoiceWebhook } from '../../src/replay/webhook.ts';

/** Timer period of the pump: a frame's 20 ms holds 5 slots, each call sends in one of them. */
const SLOT_MS = 4;
const SLOTS = FRAME_MS / SLOT_MS;
const BYTES_PER_MS = 8; // 8 kHz mu-law
const ZERO_MASK = Buffer.alloc(4);
const CLOSE_WAIT_MS = 2000;
const MAX_HOLD_MS = 5000;
const ACCOUNT_SID = 'AC00000000000000000000000000000000';

export interface BatchedCall {
  /** Webhook parameters beyond the defaults (From, Direction…). */
  params: Record<string, string>;
  /** Wall-clock offset from the job start at which the call is placed. */
  startAtMs: number;
}

export interface BatchedOutcome {
  ok: boolean;
  error?: string;
  /** Wall ms from `start` sent to the first media received. */
  firstAudioWallMs: number | null;
  sentAudioMs: number;
  receivedAudioMs: number;
  endReason: 'finished' | 'gateway-closed' | 'aborted' | 'no-stream' | 'error';
  wallMs: number;
}

export interface BatchedJob {
  wsUrl: string;
  calls: BatchedCall[];
  audio: PcmAudio;
  /** Silence after the audio (ms). */
  holdMs: number;
  signal: AbortSignal;
}

/** Pre-encoded payloads of the caller's audio, 20 ms each, plus a silent frame for the hold. */
function encodeFrames(audio: PcmAudio): { frames: string[]; silence: string } {
  const bytes = encodeMulaw(audio.samples);
  const per = (audio.sampleRateHz * FRAME_MS) / 1000;
  const frames: string[] = [];
  for (let at = 0; at < bytes.length; at += per) {
    const f = new Uint8Array(per).fill(0xff);
    f.set(bytes.subarray(at, Math.min(at + per, bytes.length)));
    frames.push(Buffer.from(f).toString('base64'));
  }
  return { frames, silence: Buffer.from(new Uint8Array(per).fill(0xff)).toString('base64') };
}

/** Decoded length of a base64 string, in bytes. */
function base64Bytes(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length * 3) / 4 - pad;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

class Call {
  readonly #ws: WebSocket;
  readonly #streamSid: string;
  readonly #callSid: string;
  readonly #prefix: string;
  readonly #outcome: BatchedOutcome;
  readonly #done: () => void;
  #seq = 2;
  #k = 0;
  #t0 = 0;
  /** Wall ms (job clock) at which the gateway's queued audio will have played. */
  #playedUntil = 0;
  readonly #marks: Array<{ name: string; atMs: number }> = [];
  finished = false;

  constructor(ws: WebSocket, callSid: string, streamSid: string, outcome: BatchedOutcome, done: () => void) {
    this.#ws = ws;
    this.#callSid = callSid;
    this.#streamSid = streamSid;
    this.#outcome = outcome;
    this.#done = done;
    this.#prefix = `{"event":"media","streamSid":"${streamSid}","sequenceNumber":"`;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#onGateway(data.toString('utf8'));
    });
  }

  begin(now: number, start: string): void {
    this.#t0 = now;
    this.#playedUntil = now;
    this.#ws.send('{"event":"connected","protocol":"Call","version":"1.0.0"}');
    this.#ws.send(start);
  }

  #onGateway(text: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    const now = performance.now();
    const event = m.event;
    if (event === 'media') {
      const payload = str((m.media as Record<string, unknown> | undefined)?.payload) ?? '';
      if (this.#outcome.firstAudioWallMs === null) this.#outcome.firstAudioWallMs = Math.round(now - this.#t0);
      const ms = base64Bytes(payload) / BYTES_PER_MS;
      this.#outcome.receivedAudioMs += ms;
      this.#playedUntil = Math.max(this.#playedUntil, now) + ms;
    } else if (event === 'mark') {
      const name = str((m.mark as Record<string, unknown> | undefined)?.name);
      if (name !== undefined) this.#marks.push({ name, atMs: this.#playedUntil });
    } else if (event === 'clear') {
      this.#playedUntil = now;
      for (const mk of this.#marks.splice(0)) this.#echo(mk.name);
    }
  }

  #echo(name: string): void {
    this.#send(`{"event":"mark","sequenceNumber":"${++this.#seq}","streamSid":"${this.#streamSid}","mark":{"name":${JSON.stringify(name)}}}`);
  }

  #send(text: string): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  /** Sends every frame due by `now` (frame k is due when its 20 ms have been spoken); true when done. */
  pump(now: number, frames: string[], silence: string, totalFrames: number): boolean {
    if (this.finished) return true;
    while (this.#marks.length > 0 && (this.#marks[0]?.atMs ?? Infinity) <= now) this.#echo(this.#marks.shift()?.name ?? '');
    const due = Math.floor((now - this.#t0) / FRAME_MS);
    while (this.#k < due && this.#k < totalFrames) {
      const k = this.#k++;
      const payload = frames[k] ?? silence;
      this.#send(`${this.#prefix}${++this.#seq}","media":{"track":"inbound","chunk":"${k + 1}","timestamp":"${k * FRAME_MS}","payload":"${payload}"}}`);
    }
    this.#outcome.sentAudioMs = this.#k * FRAME_MS;
    // Done once every frame is out and what the gateway queued has played (at most MAX_HOLD_MS more).
    if (this.#k >= totalFrames && (this.#marks.length === 0 || now - this.#t0 > totalFrames * FRAME_MS + MAX_HOLD_MS)) this.end('finished');
    return this.finished;
  }

  end(reason: BatchedOutcome['endReason'], error?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.#outcome.endReason = reason;
    this.#outcome.ok = reason === 'finished';
    if (error !== undefined) this.#outcome.error = error;
    this.#outcome.wallMs = Math.round(performance.now() - this.#t0);
    if (this.#ws.readyState === WebSocket.OPEN) {
      this.#ws.send(`{"event":"stop","sequenceNumber":"${++this.#seq}","streamSid":"${this.#streamSid}","stop":{"accountSid":"${ACCOUNT_SID}","callSid":"${this.#callSid}"}}`);
      this.#ws.close(1000, reason === 'finished' ? 'stream finished' : reason);
      setTimeout(() => this.#ws.terminate(), CLOSE_WAIT_MS).unref();
    }
    this.#done();
  }
}

/** Runs every call of the job on one pump; resolves with one outcome per call, in order. */
export async function runBatchedCalls(job: BatchedJob): Promise<BatchedOutcome[]> {
  const { frames, silence } = encodeFrames(job.audio);
  const totalFrames = frames.length + Math.ceil(job.holdMs / FRAME_MS);
  const slots: Array<Set<Call>> = Array.from({ length: SLOTS }, () => new Set());
  const base = new URL(job.wsUrl);
  const httpOrigin = `${base.protocol === 'wss:' ? 'https:' : 'http:'}//${base.host}`;
  const t0 = performance.now();
  let live = job.calls.length;
  let allDone: () => void = () => undefined;
  const finishedAll = new Promise<void>((r) => (allDone = r));
  const doneOne = (): void => {
    if (--live === 0) allDone();
  };
  const outcomes = job.calls.map((): BatchedOutcome => ({ ok: false, firstAudioWallMs: null, sentAudioMs: 0, receivedAudioMs: 0, endReason: 'error', wallMs: 0 }));

  const place = async (i: number, c: BatchedCall): Promise<void> => {
    const outcome = outcomes[i] as BatchedOutcome;
    const fail = (reason: BatchedOutcome['endReason'], error: string): void => {
      outcome.endReason = reason;
      outcome.error = error.slice(0, 200);
      doneOne();
    };
    try {
      const callSid = `CA${i.toString(16).padStart(8, '0')}${Math.random().toString(16).slice(2, 26).padEnd(24, '0')}`;
      const answer = await postVoiceWebhook({
        carrier: 'twilio',
        url: `${httpOrigin}/voice/twilio`,
        params: { CallSid: callSid, AccountSid: ACCOUNT_SID, From: '+15005550006', To: '+15005550001', Direction: 'inbound', CallStatus: 'ringing', ApiVersion: '2010-04-01', ...c.params },
        signal: job.signal,
      });
      const stream = answer.twiml.stream;
      if (!stream) return fail('no-stream', `webhook ${answer.status}: no <Stream>`);
      const u = new URL(stream.url);
      const ws = new WebSocket(`${base.protocol}//${base.host}${u.pathname}${u.search}`, { perMessageDeflate: false, skipUTF8Validation: true, generateMask: (mask: Buffer) => ZERO_MASK.copy(mask), handshakeTimeout: 10_000 });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const streamSid = `MZ${callSid.slice(2)}`;
      const call = new Call(ws, callSid, streamSid, outcome, doneOne);
      ws.on('close', (code, reason) => call.end('gateway-closed', `ended: gateway-closed ${code} ${reason.toString()}`));
      ws.on('error', () => undefined);
      const start = JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        start: { accountSid: ACCOUNT_SID, streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: stream.parameters },
        streamSid,
      });
      call.begin(performance.now(), start);
      (slots[i % SLOTS] as Set<Call>).add(call);
    } catch (err) {
      fail('error', (err as Error).message);
    }
  };

  for (let i = 0; i < job.calls.length; i++) {
    const c = job.calls[i] as BatchedCall;
    setTimeout(() => void place(i, c), Math.max(0, c.startAtMs - (performance.now() - t0)));
  }
  // The pump: one timer, each tick serves one slot of calls; drift-free (the next tick is computed
  // from the job start, and each call sends every frame due by now).
  let tick = 0;
  let timer: NodeJS.Timeout | undefined;
  const step = (): void => {
    const slot = slots[tick % SLOTS] as Set<Call>;
    const now = performance.now();
    for (const call of slot) if (call.pump(now, frames, silence, totalFrames)) slot.delete(call);
    tick++;
    timer = setTimeout(step, Math.max(0, t0 + tick * SLOT_MS - performance.now()));
  };
  step();
  const onAbort = (): void => {
    for (const slot of slots) for (const call of slot) call.end('aborted', 'aborted');
  };
  job.signal.addEventListener('abort', onAbort, { once: true });
  if (job.calls.length > 0) await finishedAll;
  clearTimeout(timer);
  job.signal.removeEventListener('abort', onAbort);
  return outcomes;
}
