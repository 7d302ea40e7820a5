// Transcript evidence (dsp/greetingPhrases.ts): when the call streams to speech-to-text, a greeting
// phrase calls a machine while AMD decides, or revises a human verdict; without a transcript AMD
// decides as before (the evidence is never required).
import { describe, expect, it } from 'vitest';
import { DetectorChain, type ChainEvent } from '../../dsp/chain.ts';
import { greetingPhrase } from '../../dsp/greetingPhrases.ts';
import { add, concat, frames, noise, pcm, silence, speech } from './signals.ts';

function line(...parts: Float64Array[]): Float64Array {
  const x = concat(...parts);
  return add(x, noise(x.length / 8, -60, 77));
}

/** Runs the chain and hands it `text` as a speech-to-text final at `atMs`. */
function run(x: Float64Array, transcript?: { atMs: number; text: string }): ChainEvent[] {
  const events: ChainEvent[] = [];
  const chain = new DetectorChain({ amd: {}, vad: false, beep: false, dtmfInband: false, fax: false }, (e) => events.push(e));
  frames(pcm(x), (f, start) => {
    if (transcript && start / 8 === transcript.atMs) chain.noteTranscript(transcript.text);
    chain.process(f);
  });
  return events.filter((e) => e.type === 'amd.verdict' || e.type === 'amd.revised');
}

describe('greeting phrases', () => {
  it('finds them in the corpus languages, whatever the case, accents and punctuation', () => {
    expect(greetingPhrase("Hi, you've reached Dave. Leave a message after the tone!")).toBe('leave a message');
    expect(greetingPhrase('Bonjour, laissez-nous un message APRÈS le bip')).toBe('laissez nous un message');
    expect(greetingPhrase('Por favor, deje su mensaje después del tono')).toBe('deje su mensaje');
    expect(greetingPhrase('Il numero non è disponibile')).toBe('non e disponibile');
    expect(greetingPhrase('Абонент недоступен')).toBe('недоступен');
  });

  it('does not find them in what people say when they answer', () => {
    for (const t of ['Hello?', "Hello, this is Maria speaking, who's calling?", 'Allô oui ?', '¿Bueno?', 'Yes, I am available now', 'Pronto, chi parla?']) {
      expect(greetingPhrase(t), t).toBeNull();
    }
  });
});

describe('AMD with transcript evidence', () => {
  const answer = (): Float64Array => line(silence(600), speech(1300, { seed: 4 }), silence(3000));

  it('a greeting phrase before the verdict calls a machine at once', () => {
    const events = run(answer(), { atMs: 1600, text: 'You have reached the Smiths' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'amd.verdict', result: 'machine', answeredBy: 'machine_start' });
    expect(events[0]!.atSample / 8).toBe(1620);
    expect((events[0] as { reason: string }).reason).toMatch(/greeting phrase "you have reached"/);
  });

  it('a greeting phrase after a human verdict revises it to machine', () => {
    const events = run(answer(), { atMs: 4000, text: 'please leave a message' });
    expect(events.map((e) => `${e.type}:${(e as { result: string }).result}`)).toEqual(['amd.verdict:human', 'amd.revised:machine']);
  });

  it('without a transcript, or with what a person says, the verdict stands', () => {
    expect(run(answer()).map((e) => e.type)).toEqual(['amd.verdict']);
    const events = run(answer(), { atMs: 1600, text: 'Hello, who is this?' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ result: 'human' });
  });
});
