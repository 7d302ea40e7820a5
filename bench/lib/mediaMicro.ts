// In-process attribution of the media path (no sockets, no database): main-thread CPU µs per 20 ms media message
// for each stage — the floor's work (JSON.parse + base64 + mu-law), the full parser, the fast scanner,
// the session's frame assembly, and the detectors in the configurations a call goes through. The
// detector rows also give the per-call cost of a listening-idle call with in-band DTMF off (nothing
// listens for keys) and on (a gather listens). `node bench/lib/mediaMicro.ts`
import { FRAME_MS, FRAME_SAMPLES } from '../../dsp/frame.ts';
import { decodeMulawInto, encodeMulaw } from '../../dsp/mulaw.ts';
import { CallSession } from '../../src/call/CallSession.ts';
import { attachDetectors, defaultDetectorOptions, type DetectorOptions } from '../../src/call/detectors.ts';
import { MediaScanner } from '../../src/telephony/mediaScan.ts';
import { twilioCarrierDialect, twilioSerializer } from '../../src/telephony/twilio.ts';
import { callerAudio } from './callerAudio.ts';

const noop = (): void => undefined;
const log = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * A call session with no socket, timeline or log behind it, for in-process media benchmarks;
 * `mediaTimeoutMs` runs the media watchdog as a gateway's calls do (0: off).
 */
export function benchSession(direction: 'inbound' | 'outbound' = 'inbound', mediaTimeoutMs = 0): CallSession {
  return new CallSession({
    callId: 'c',
    carrier: 'twilio',
    direction,
    from: '+1',
    to: '+2',
    streamId: 'MZ1',
    carrierCallId: 'CA1',
    parameters: {},
    input: { encoding: 'mulaw', sampleRateHz: 8000 },
    sink: { sendMedia: noop, sendMark: noop, sendClear: noop, close: noop },
    timeline: { append: noop },
    log,
    mediaTimeoutMs,
  });
}

/** Each pass plays the audio this many times over (a call of seconds × REPEAT). */
const REPEAT = 10;

export interface StageFigure {
  stage: string;
  usPerMessage: number;
}

/** Median CPU µs per message of `rounds` passes over `messages`, each pass with a fresh `setup()`. */
function time(stage: string, messages: readonly Buffer[], setup: () => (m: Buffer) => void, rounds: number): StageFigure {
  const runs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const f = setup();
    // This thread's CPU, not wall time (on a shared machine the wall clock counts other processes'
    // turns) and not the process's: V8's worker threads compile the stages' code meanwhile, and that
    // made a stage read 2-3× its cost when it ran cold (the scanner 2.7 vs 0.76 µs in the media section).
    const c0 = process.threadCpuUsage();
    for (let k = 0; k < REPEAT; k++) for (const m of messages) f(m);
    const c = process.threadCpuUsage(c0);
    runs.push((c.user + c.system) / (REPEAT * messages.length));
  }
  runs.sort((a, b) => a - b);
  return { stage, usPerMessage: Math.round((runs[Math.floor(runs.length / 2)] as number) * 100) / 100 };
}

/** Every stage over `seconds` of caller audio per pass, `rounds` passes each (after one warm-up pass). */
export function mediaPathBreakdown(seconds = 30, rounds = 5): StageFigure[] {
  const mulaw = encodeMulaw(callerAudio(seconds * 1000).samples);
  const n = Math.floor(mulaw.length / FRAME_SAMPLES);
  const streamSid = 'MZ0123456789abcdef0123456789abcdef';
  const messages = Array.from({ length: n }, (_, k) =>
    Buffer.from(twilioCarrierDialect.media(k + 2, streamSid, { track: 'inbound', chunk: k + 1, timestampMs: k * FRAME_MS, payloadBase64: Buffer.from(mulaw.subarray(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES)).toString('base64') })),
  );
  const pcm = new Int16Array(FRAME_SAMPLES);
  const through = (direction: 'inbound' | 'outbound', detectors: DetectorOptions | undefined, listening: boolean) => () => {
    const scanner = new MediaScanner();
    const call = benchSession(direction);
    if (detectors) attachDetectors(call, detectors);
    if (listening) call.listenFor('keys');
    return (m: Buffer) => call.receiveMedia((scanner.scan(m) as { payload: Uint8Array }).payload);
  };
  const stages: Array<[string, () => (m: Buffer) => void]> = [
    [
      'floor: toString + JSON.parse + base64 + mu-law',
      () => (m) => {
        const o = JSON.parse(m.toString('utf8')) as { media: { payload: string } };
        decodeMulawInto(Buffer.from(o.media.payload, 'base64'), pcm);
      },
    ],
    ['full parser (toString + parseInbound)', () => (m) => void twilioSerializer.parse(m.toString('utf8'))],
    [
      'fast scanner (bytes → payload)',
      () => {
        const s = new MediaScanner();
        return (m) => void s.scan(m);
      },
    ],
    ['scanner + session frames (no detectors)', through('inbound', undefined, false)],
    ['+ detectors, inbound, nobody listens for keys (VAD)', through('inbound', defaultDetectorOptions('inbound'), false)],
    ['+ detectors, inbound, a gather listens (VAD + DTMF)', through('inbound', defaultDetectorOptions('inbound'), true)],
    ['+ detectors, outbound defaults (AMD, beep, fax, VAD)', through('outbound', defaultDetectorOptions('outbound'), false)],
    // What an outbound call ran after its greeting before the beep followed the listening state.
    ['+ detectors, VAD + beep (outbound after the greeting, beep always on)', through('outbound', { amd: false, vad: true, beep: true, fax: false, dtmfInband: false }, false)],
  ];
  const out: StageFigure[] = [];
  for (const [stage, setup] of stages) {
    time(stage, messages, setup, 1); // warm-up (JIT)
    out.push(time(stage, messages, setup, rounds));
  }
  return out;
}

/**
 * A worker's regime in one process: `calls` listening inbound calls (scanner + session + VAD + in-band
 * DTMF, each call its own state and its own message buffers), their messages interleaved as they arrive
 * — message k of every call, then message k+1 — so each call's state is out of the caches when its next
 * message comes, as with 300 calls in a worker. Median CPU µs per message of `rounds` passes.
 */
export function interleavedCalls(calls = 300, seconds = 5, rounds = 5): StageFigure {
  const mulaw = encodeMulaw(callerAudio(seconds * 1000).samples);
  const n = Math.floor(mulaw.length / FRAME_SAMPLES);
  const perCall = Array.from({ length: calls }, (_, c) => {
    const streamSid = `MZ${String(c).padStart(32, '0')}`;
    return Array.from({ length: n }, (_, k) =>
      Buffer.from(twilioCarrierDialect.media(k + 2, streamSid, { track: 'inbound', chunk: k + 1, timestampMs: k * FRAME_MS, payloadBase64: Buffer.from(mulaw.subarray(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES)).toString('base64') })),
    );
  });
  const runs: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const handlers = perCall.map(() => {
      const scanner = new MediaScanner();
      const call = benchSession('inbound');
      attachDetectors(call, defaultDetectorOptions('inbound'));
      call.listenFor('keys');
      return (m: Buffer) => call.receiveMedia((scanner.scan(m) as { payload: Uint8Array }).payload);
    });
    const c0 = process.threadCpuUsage();
    for (let k = 0; k < n; k++) for (let c = 0; c < calls; c++) (handlers[c] as (m: Buffer) => void)((perCall[c] as Buffer[])[k] as Buffer);
    const c = process.threadCpuUsage(c0);
    if (r > 0) runs.push((c.user + c.system) / (n * calls)); // the first pass warms the JIT
  }
  runs.sort((a, b) => a - b);
  return { stage: `${calls} listening calls interleaved (scanner + session + VAD + DTMF)`, usPerMessage: Math.round((runs[Math.floor(runs.length / 2)] as number) * 100) / 100 };
}

if (import.meta.main) {
  const only = process.argv.includes('--interleaved');
  const figures = only ? [] : mediaPathBreakdown();
  figures.push(interleavedCalls());
  for (const f of figures) process.stdout.write(`${f.stage.padEnd(56)} ${f.usPerMessage.toFixed(2)} µs/msg\n`);
}
