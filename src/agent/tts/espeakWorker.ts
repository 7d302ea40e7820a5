// Worker thread for the offline voice. eSpeak NG (compiled to WASM by the Echogarden project) synthesizes
// synchronously — ~150 ms of CPU per second of speech on this machine — so it runs here, off the event
// loop that carries every call's audio. Protocol: {id, text, voice, rate} in; {id, samples} chunks
// (22.05 kHz Int16, transferred) and {id, done, sampleRateHz} or {id, error} out. A request is cancelled
// by writing its id into the shared `cancel` cell; the synthesis callback returns true to stop eSpeak.
import { parentPort, workerData } from 'node:worker_threads';
import EspeakInitializer from '@echogarden/espeak-ng-emscripten';

interface EspeakWorkerApi {
  set_voice(name: string): void;
  set_rate(wpm: number): void;
  get_samplerate(): number;
  synthesize(text: string, cb: (samples: Int16Array, events: unknown[]) => boolean): void;
}

export interface EspeakRequest {
  id: number;
  text: string;
  voice: string;
  rateWpm: number;
}

export type EspeakReply =
  | { id: number; samples: Int16Array }
  | { id: number; done: true; sampleRateHz: number }
  | { id: number; error: string };

const cancel = (workerData as { cancel: Int32Array }).cancel;
const port = parentPort;
if (!port) throw new Error('espeakWorker must run in a worker thread');

const module = (await EspeakInitializer()) as { eSpeakNGWorker: new () => EspeakWorkerApi };
const engine = new module.eSpeakNGWorker();
let currentVoice = '';
let currentRate = 0;

port.on('message', (req: EspeakRequest) => {
  try {
    if (req.voice !== currentVoice) {
      engine.set_voice(req.voice);
      currentVoice = req.voice;
    }
    if (req.rateWpm !== currentRate) {
      engine.set_rate(req.rateWpm);
      currentRate = req.rateWpm;
    }
    engine.synthesize(req.text, (samples) => {
      if (Atomics.load(cancel, 0) === req.id) return true;
      if (samples.length > 0) port.postMessage({ id: req.id, samples } satisfies EspeakReply, [samples.buffer as ArrayBuffer]);
      return false;
    });
    port.postMessage({ id: req.id, done: true, sampleRateHz: engine.get_samplerate() } satisfies EspeakReply);
  } catch (err) {
    port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies EspeakReply);
  }
});
port.postMessage({ ready: true });
