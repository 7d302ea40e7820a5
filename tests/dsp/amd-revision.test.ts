// Revisable verdicts (dsp/amd.ts watch()): within the window after a verdict, a beep or talking over our
// prompt revises human → machine, a key press revises machine → human, once; and DetectorChain.enable.
import { describe, expect, it } from 'vitest';
import { DetectorChain, type ChainEvent } from '../../dsp/chain.ts';
import type { AmdOptions } from '../../dsp/amd.ts';
import { add, concat, dtmf, frames, noise, pcm, silence, speech, tone } from './signals.ts';

function line(...parts: Float64Array[]): Float64Array {
  const x = concat(...parts);
  return add(x, noise(x.length / 8, -60, 77));
}

/** Runs the chain; `playout` = [startMs, endMs] of our prompt, told to the chain as the call glue does. */
function run(x: Float64Array, amd: AmdOptions = {}, playout?: [number, number]): ChainEvent[] {
  const events: ChainEvent[] = [];
  const chain = new DetectorChain({ amd, vad: false, beep: false, dtmfInband: false, fax: false }, (e) => events.push(e));
  frames(pcm(x), (f, start) => {
    const ms = start / 8;
    if (playout && ms === playout[0]) chain.notePlayout(true);
    if (playout && ms === playout[1]) chain.notePlayout(false);
    chain.process(f);
  });
  return events;
}

const summary = (events: ChainEvent[]): string[] =>
  events.map((e) => ('result' in e ? `${e.type}:${e.result}/${e.answeredBy}` : 'answeredBy' in e ? `${e.type}:${e.answeredBy}` : e.type));

describe('AMD verdict revision', () => {
  // A short answer, the human verdict ~0.9 s after it, then a beep 1.5 s later: a greeting that paused.
  const pausedGreeting = (): Float64Array => line(silence(600), speech(1300, { seed: 4 }), silence(2400), tone(1000, 250, -20), silence(1500));

  it('revises human to machine on a beep within the window, with the message end (message-end mode)', () => {
    const events = run(pausedGreeting());
    expect(summary(events)).toEqual(['amd.verdict:human/human', 'amd.revised:machine/machine_end_beep', 'amd.message_end:machine_end_beep']);
    const revised = events[1] as Extract<ChainEvent, { type: 'amd.revised' }>;
    expect(revised.previous).toBe('human');
    expect(revised.reason).toMatch(/beep at 1000 Hz/);
    expect(revised.atSample / 8).toBeGreaterThanOrEqual(600 + 1300 + 2400 + 250);
    expect(revised.atSample / 8).toBeLessThanOrEqual(600 + 1300 + 2400 + 250 + 40);
    expect(summary(run(pausedGreeting(), { mode: 'fast' }))).toEqual(['amd.verdict:human/human', 'amd.revised:machine/machine_end_beep']);
  });

  it('does not revise after the window or when the window is 0', () => {
    expect(summary(run(pausedGreeting(), { revisionWindowMs: 1000 }))).toEqual(['amd.verdict:human/human']);
    expect(summary(run(pausedGreeting(), { revisionWindowMs: 0 }))).toEqual(['amd.verdict:human/human']);
    expect(() => run(pausedGreeting(), { revisionWindowMs: -1 })).toThrow(RangeError);
  });

  it('revises human to machine when the callee talks straight over our prompt, not on a short reply', () => {
    // Verdict at ~2.4 s; our prompt starts at 2.6 s; the "callee" keeps talking for 3 s from 2.8 s.
    const greeting = line(silence(600), speech(900, { seed: 6 }), silence(1300), speech(3000, { seed: 7, pauseMs: 60 }), silence(2500));
    const events = run(greeting, {}, [2600, 6000]);
    expect(summary(events).slice(0, 2)).toEqual(['amd.verdict:human/human', 'amd.revised:machine/machine_start']);
    const revised = events[1] as Extract<ChainEvent, { type: 'amd.revised' }>;
    expect(revised.reason).toMatch(/over our prompt/);
    expect(revised.atSample / 8).toBeGreaterThanOrEqual(2800 + 1500);
    // …and the message end follows once the greeting stops.
    expect(summary(events)[2]).toBe('amd.message_end:machine_end_silence');
    // The same talk with no prompt playing, and a short "hello?" over the prompt, stay human.
    expect(summary(run(greeting))).toEqual(['amd.verdict:human/human']);
    const person = line(silence(600), speech(900, { seed: 6 }), silence(1300), speech(700, { seed: 8 }), silence(3000));
    expect(summary(run(person, {}, [2600, 6000]))).toEqual(['amd.verdict:human/human']);
  });

  it('catches the beep of a greeting that paused after its first words, seconds after the human verdict', () => {
    // "Ana here… [1 s] …please leave a message after the tone": an opening as short as a "Hello?" is
    // called human at the pause (openings of 1–2 s wait 1.4 s and hear the greeting go on), then the
    // rest of the greeting, then the beep ~6 s after the verdict — inside the default window (10 s).
    const greeting = line(silence(600), speech(700, { seed: 4 }), silence(1000), speech(4500, { seed: 9, pauseMs: 60 }), silence(400), tone(1000, 250, -20), silence(1500));
    const events = run(greeting);
    expect(summary(events).slice(0, 2)).toEqual(['amd.verdict:human/human', 'amd.revised:machine/machine_end_beep']);
    const verdictMs = (events[0] as Extract<ChainEvent, { type: 'amd.verdict' }>).atSample / 8;
    const revisedMs = (events[1] as Extract<ChainEvent, { type: 'amd.revised' }>).atSample / 8;
    expect(revisedMs - verdictMs).toBeGreaterThan(4000);
    // With the window of the previous default (4 s) that beep came too late.
    expect(summary(run(greeting, { revisionWindowMs: 4000 }))).toEqual(['amd.verdict:human/human']);
  });

  it('holds the talk-over rule only for talkOverWindowMs after the verdict: later, a person may talk over us', () => {
    // Verdict at ~2.4 s; our prompt plays from 7 s, the callee talks over it for 3 s: past the 4 s talk-over window.
    const late = line(silence(600), speech(900, { seed: 6 }), silence(5500), speech(3000, { seed: 7, pauseMs: 60 }), silence(2500));
    expect(summary(run(late, {}, [6800, 11000]))).toEqual(['amd.verdict:human/human']);
    // The same talk inside a wider talk-over window revises.
    expect(summary(run(late, { talkOverWindowMs: 9000 }, [6800, 11000])).slice(0, 2)).toEqual(['amd.verdict:human/human', 'amd.revised:machine/machine_start']);
    expect(() => run(late, { talkOverWindowMs: 0 })).toThrow(RangeError);
  });

  it('revises machine to human on a key press, once', () => {
    // 5.5 s of speech: a machine once the stretch passes 5 s (maxSpeechMs).
    const x = line(silence(300), speech(5500, { seed: 2 }), silence(300), dtmf('5', 150), silence(400), tone(1000, 250, -20), silence(1200));
    const events = run(x);
    expect(summary(events)).toEqual(['amd.verdict:machine/machine_start', 'amd.revised:human/human']);
    expect((events[1] as Extract<ChainEvent, { type: 'amd.revised' }>).previous).toBe('machine');
  });
});

describe('AMD probe answer (machine → human)', () => {
  const verdicts = (events: ChainEvent[]): string[] => summary(events.filter((e) => e.type === 'amd.verdict' || e.type === 'amd.revised'));
  // 5.5 s of speech: a machine verdict once the stretch passes 5 s (≈ 5.3 s), then silence.
  const opening = (): Float64Array[] => [silence(300), speech(5500, { seed: 2 }), silence(1000)];

  it('a short answer right after our probe prompt revises machine to human', () => {
    // Our probe plays 5900–6700 ms while the callee is quiet; they answer 1 s later (7700–8300 ms).
    const x = line(...opening(), silence(900), speech(600, { seed: 9 }), silence(1500));
    const events = run(x, {}, [5900, 6700]).filter((e) => e.type !== 'amd.message_end');
    expect(verdicts(events)).toEqual(['amd.verdict:machine/machine_start', 'amd.revised:human/human']);
    const revised = events[1] as Extract<ChainEvent, { type: 'amd.revised' }>;
    expect(revised.reason).toMatch(/answered our prompt/);
    // 600 ms of silence after the answer ends (the VAD's offset is the last active frame).
    expect(revised.atSample / 8).toBeGreaterThanOrEqual(8300 + 500);
    expect(revised.atSample / 8).toBeLessThanOrEqual(8300 + 700);
  });

  it('a greeting that goes on talking after the probe is not an answer', () => {
    const x = line(...opening(), silence(900), speech(3500, { seed: 10 }), silence(1500));
    expect(verdicts(run(x, {}, [5900, 6700]))).toEqual(['amd.verdict:machine/machine_start']);
  });

  it('speech long after the probe, or without a probe, does not revise', () => {
    const late = line(...opening(), silence(2600), speech(600, { seed: 9 }), silence(1500));
    expect(verdicts(run(late, {}, [5900, 6700]))).toEqual(['amd.verdict:machine/machine_start']);
    const noProbe = line(...opening(), silence(900), speech(600, { seed: 9 }), silence(1500));
    expect(verdicts(run(noProbe))).toEqual(['amd.verdict:machine/machine_start']);
  });
});

describe('DetectorChain.enable', () => {
  const beepy = (): Float64Array => line(silence(400), tone(1000, 250, -20), silence(600), tone(1000, 250, -20), silence(600));

  it('off stops a detector and its events; back on starts it from a fresh state', () => {
    const events: ChainEvent[] = [];
    const chain = new DetectorChain({ amd: false, vad: false, beep: true, dtmfInband: true, fax: false }, (e) => events.push(e));
    chain.enable({ beep: false });
    frames(pcm(beepy()), (f) => chain.process(f));
    expect(events).toEqual([]);
    chain.enable({ beep: true, dtmf: false });
    frames(pcm(concat(beepy(), dtmf('7', 150), silence(300))), (f) => chain.process(f));
    expect(events.map((e) => e.type)).toEqual(['beep', 'beep']);
  });

  it('AMD off emits no verdict; back on decides afresh', () => {
    const events: ChainEvent[] = [];
    const chain = new DetectorChain({ amd: {}, vad: false, beep: false, dtmfInband: false, fax: false }, (e) => events.push(e));
    chain.enable({ amd: false });
    expect(chain.amdPending).toBe(false);
    frames(pcm(line(silence(600), speech(600, { seed: 9 }), silence(2500))), (f) => chain.process(f));
    expect(events).toEqual([]);
    chain.enable({ amd: true });
    expect(chain.amdPending).toBe(true);
    frames(pcm(line(silence(600), speech(600, { seed: 9 }), silence(2500))), (f) => chain.process(f));
    expect(summary(events)).toEqual(['amd.verdict:human/human']);
  });
});
