// Per-call memory of the media path's structures, in process: N calls as the gateway builds them
// (CallSession with its playout and media clock, an idle recorder as app.ts creates for every call,
// the detectors the call program attaches, the stream's media scanner), each fed two seconds of caller
// audio, against zero calls. Heap and array buffers after a full GC, divided by N; and each structure
// alone, so every saving has its own figure; and a call playing a cached prompt (its unplayed audio is
// what listen-in and the recorder read), recorded or not. `node bench/lib/callMemory.ts [N]`
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { encodeMulaw } from '../../dsp/mulaw.ts';
import { CallSession } from '../../src/call/CallSession.ts';
import { markImmutableAudio } from '../../src/call/encodedAudio.ts';
import { attachDetectors, defaultDetectorOptions } from '../../src/call/detectors.ts';
import { DualChannelRecorder } from '../../src/call/recorder.ts';
import { MediaScanner } from '../../src/telephony/mediaScan.ts';
import { callerAudio } from './callerAudio.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const noop = (): void => undefined;
const log = { debug: noop, info: noop, warn: noop, error: noop };
const audio = encodeMulaw(callerAudio(2000).samples);
/** A 5 s prompt from the prompt cache (one buffer shared by every call), sent to the carrier at once. */
const prompt = encodeMulaw(callerAudio(5000).samples);
markImmutableAudio(prompt);

function bytesInUse(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

type Part = 'session' | 'recorder' | 'detectors' | 'scanner' | 'prompt' | 'recording';

function buildCall(i: number, parts: ReadonlySet<Part>, direction: 'inbound' | 'outbound'): unknown[] {
  const recorder = parts.has('recorder') ? new DualChannelRecorder({}) : undefined;
  const session = new CallSession({
    callId: `call-${i}`,
    carrier: 'twilio',
    direction,
    from: '+15550000000',
    to: '+15550000001',
    streamId: `MZ${i}`,
    carrierCallId: `CA${i}`,
    parameters: { token: 'x'.repeat(64) },
    input: { encoding: 'mulaw', sampleRateHz: 8000 },
    sink: { sendMedia: noop, sendMark: noop, sendClear: noop, close: noop },
    timeline: { append: noop },
    log,
    recorder,
  });
  if (parts.has('detectors')) attachDetectors(session, defaultDetectorOptions(direction));
  const scanner = parts.has('scanner') ? new MediaScanner() : undefined;
  if (parts.has('recording')) recorder?.start({ write: async () => undefined, close: async () => undefined });
  if (parts.has('prompt')) session.play(prompt, { label: 'greeting' });
  for (let o = 0; o < audio.length; o += FRAME_SAMPLES) session.receiveMedia(audio.subarray(o, o + FRAME_SAMPLES));
  return [session, recorder, scanner];
}

export interface CallMemoryFigure {
  what: string;
  kbPerCall: number;
}

/** KB per call of `parts`, over `n` calls. */
function perCall(n: number, parts: ReadonlySet<Part>, direction: 'inbound' | 'outbound'): number {
  const before = bytesInUse();
  const calls = Array.from({ length: n }, (_, i) => buildCall(i, parts, direction));
  const after = bytesInUse();
  const kb = (after - before) / n / 1024;
  for (const c of calls) (c[0] as CallSession).end('done');
  return Math.round(kb);
}

export function callMemory(n = 200): CallMemoryFigure[] {
  perCall(20, new Set<Part>(['session', 'recorder', 'detectors', 'scanner']), 'outbound'); // warm-up
  const all = new Set<Part>(['session', 'recorder', 'detectors', 'scanner']);
  return [
    { what: 'whole call, outbound (AMD, beep, fax, VAD), idle recorder', kbPerCall: perCall(n, all, 'outbound') },
    { what: 'whole call, inbound (VAD), idle recorder', kbPerCall: perCall(n, all, 'inbound') },
    { what: 'CallSession alone (playout, clock, frame buffers)', kbPerCall: perCall(n, new Set<Part>(['session']), 'inbound') },
    { what: 'CallSession + idle recorder', kbPerCall: perCall(n, new Set<Part>(['session', 'recorder']), 'inbound') },
    { what: 'CallSession + outbound detectors', kbPerCall: perCall(n, new Set<Part>(['session', 'detectors']), 'outbound') },
    { what: 'CallSession + inbound detectors', kbPerCall: perCall(n, new Set<Part>(['session', 'detectors']), 'inbound') },
    { what: 'CallSession 2 s into a 5 s cached prompt', kbPerCall: perCall(n, new Set<Part>(['session', 'prompt']), 'inbound') },
    { what: 'CallSession 2 s into a 5 s cached prompt, recorded', kbPerCall: perCall(n, new Set<Part>(['session', 'recorder', 'recording', 'prompt']), 'inbound') },
  ];
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 200);
  for (const f of callMemory(n)) process.stdout.write(`${f.what.padEnd(60)} ${f.kbPerCall} KB/call\n`);
}
