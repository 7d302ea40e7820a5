// The simplest call program: play a greeting (decoded once at start, so it goes out within
// milliseconds of the stream's `start`) and keep listening; the recorder, when on, keeps the caller.
import { readFile } from 'node:fs/promises';
import { encodeMulaw } from '../../dsp/mulaw.ts';
import { decodeWavTo8k } from '../../dsp/wav.ts';
import type { CallProgram } from '../app.ts';

export async function loadGreeting(file: string): Promise<Uint8Array> {
  return encodeMulaw(decodeWavTo8k(await readFile(file)));
}

export function greetingProgram(greeting: Uint8Array): CallProgram {
  return {
    start(session) {
      session.play(greeting, { label: 'greeting' });
    },
    resolveFlowId: async () => '',
  };
}
