// AMD with talk behind the person who answers (a TV, an office): the corpus's people, each mixed with a
// babble of six recorded greetings of other voices, its level 26 dB under the person's loudest 50 ms.
// The energy VAD hears the babble as speech that never ends; AMD must still hear the answer end.
import { describe, expect, it } from 'vitest';
import { analyseRecording } from '../../dsp/analyse.ts';
import { ForegroundGate } from '../../dsp/foreground.ts';
import { Vad } from '../../dsp/vad.ts';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { DetectorChain, type ChainEvent } from '../../dsp/chain.ts';
import { add, concat, frames, noise, pcm, scaleTo, silence, speech } from './signals.ts';
import { load, manifest, withBabble } from './babble.ts';

/** Frames on which the gate's output differs from the VAD's, and the gate's cuts, over `line`. */
function throughGate(line: Int16Array): { differ: number; cuts: number } {
  const vad = new Vad();
  const gate = new ForegroundGate();
  let differ = 0;
  frames(line, (frame) => {
    const v = vad.process(frame);
    const { active, speaking, event, eventSample } = v;
    const g = gate.process(v);
    if (g.active !== active || g.speaking !== speaking || g.event !== event || g.eventSample !== eventSample) differ++;
  });
  return { differ, cuts: gate.cuts };
}

describe('AMD with talk behind the person who answers', () => {
  it('calls no person a machine with a babble of voices 26 dB under their speech', () => {
    // Every other person of the corpus (122; the whole corpus takes a minute on a loaded machine).
    const people = manifest.files.filter((e) => e.truth === 'human').filter((_, i) => i % 2 === 0);
    expect(people.length).toBeGreaterThan(100);
    const wrong: string[] = [];
    for (const e of people) {
      const r = analyseRecording(withBabble(load(e.file), e.source, 26));
      if (r.result === 'machine') wrong.push(`${e.file}: ${r.reason}`);
    }
    // Without the foreground gate 31 of the first 220 people were machines ("speech longer than 5000 ms").
    // Closer babble: README.
    expect(wrong).toEqual([]);
  }, 120_000);

  it('does not let the room lengthen a 4 s sentence past the 5 s rule while the gate decides', () => {
    // The gate needs 400 ms of quiet to end an utterance the room keeps going; until then those frames
    // counted as speech, and a 4 s sentence crossed maxSpeechMs (both people were machines at 26 dB).
    for (const file of ['amd/human_sentence_en-wztaunt2_-8dB_floorpink-68.wav', 'amd/human_sentence_en-hwrussian_-12dB_floorwhite-74.wav']) {
      const e = manifest.files.find((f) => f.file === file)!;
      const r = analyseRecording(withBabble(load(e.file), e.source, 26));
      expect(r.result, `${file}: ${r.reason}`).toBe('human');
    }
  });

  it('calls no person a machine with the babble 23 dB under their speech, and fewer at 20 dB', () => {
    const people = manifest.files.filter((e) => e.truth === 'human').filter((_, i) => i % 2 === 0);
    const machines = (snrDb: number): number => people.filter((e) => analyseRecording(withBabble(load(e.file), e.source, snrDb)).result === 'machine').length;
    // 23 dB: 9 of these 122 before the gate's pending background stopped lengthening the answer, 2 after
    // that, 0 once the room's swings toward the talker's level stopped restarting the gate's quiet run.
    expect(machines(23)).toBe(0);
    // 20 dB: 26 before that hold, 15 with it; closer talk still reads as speech (README). 16 since the
    // VAD's speech band finds the first word (dsp/vad.ts): one sentence here is heard from 120 ms earlier,
    // in the room's talk before it, and crosses the 5 s rule by 60 ms; on the other half of the people
    // (not in this test) nothing moved, 8 of 121 at 20 dB and 0 at 23 dB both before and after.
    expect(machines(20)).toBeLessThanOrEqual(16);
  }, 180_000);

  it('ends the utterance where the loud speech ended, not where the babble does', () => {
    const words = speech(900, { dbfs: -14, seed: 7 });
    // Four voices talking without pauses, 22 dB under the answer: no frame of it falls to a floor.
    const voices = [11, 12, 13, 14].map((seed) => speech(6000, { dbfs: -40, seed, pauseMs: 0 }));
    const room = scaleTo(voices.reduce((a, b) => add(a, b)), -36);
    const line = pcm(add(concat(silence(300), words, silence(4800)), room));
    const vad = new Vad();
    const gate = new ForegroundGate();
    let vadOffsets = 0;
    let gateOffset = -1;
    frames(line, (frame) => {
      const v = vad.process(frame);
      if (v.event === 'offset') vadOffsets++;
      const g = gate.process(v);
      if (g.event === 'offset' && gateOffset < 0) gateOffset = g.eventSample;
    });
    expect(gate.cuts).toBe(1);
    // The words end at 1.2 s; the VAD's hangover and the gate's smoothing put the end within 0.5 s.
    const endMs = (gateOffset / FRAME_SAMPLES) * 20;
    expect(endMs).toBeGreaterThan(1100);
    expect(endMs).toBeLessThan(1700);
    expect(analyseRecording(line).result).toBe('human');
    expect(vadOffsets).toBeLessThanOrEqual(1);
  });

  it("ends the caller's turn (speech.stopped) with a TV talking on behind them, and hears their next words", () => {
    // Words, 1.5 s of the room alone, words again; four voices talk throughout, 22 dB under the words.
    const words = concat(silence(300), speech(1200, { dbfs: -14, seed: 7 }), silence(1500), speech(1000, { dbfs: -16, seed: 8 }), silence(2000));
    const voices = [11, 12, 13, 14].map((seed) => speech(words.length / 8, { dbfs: -40, seed, pauseMs: 0 }));
    const line = pcm(add(words, scaleTo(voices.reduce((a, b) => add(a, b)), -36)));
    const events: ChainEvent[] = [];
    const chain = new DetectorChain({ amd: false, vad: true, beep: false, dtmfInband: false, fax: false }, (e) => events.push(e));
    frames(line, (frame) => chain.process(frame));
    const at = (e: ChainEvent): number => Math.round((e.atSample / 8000) * 1000);
    const starts = events.filter((e) => e.type === 'speech.started').map(at);
    const stops = events.filter((e) => e.type === 'speech.stopped').map(at);
    // Each stretch of words starts a turn and ends one within ~0.7 s of its last word (1.5 s, 4.0 s).
    expect(stops.length).toBeGreaterThanOrEqual(2);
    expect(stops[0]).toBeGreaterThan(1500);
    expect(stops[0]).toBeLessThan(2300);
    expect(starts.filter((t) => t > 2600 && t < 3300)).toHaveLength(1);
    expect(stops.filter((t) => t > 4000 && t < 4800)).toHaveLength(1);
  });

  it('passes a soft reply after a pause: only an utterance the talker was loud in is cut', () => {
    const line = pcm(add(concat(silence(300), speech(1000, { dbfs: -10, seed: 3 }), silence(800), speech(1500, { dbfs: -32, seed: 4 }), silence(1500)), noise(5100, -65, 2)));
    expect(throughGate(line)).toEqual({ differ: 0, cuts: 0 });
  });

  it('changes nothing on a line without talk behind the speech', () => {
    const line = pcm(add(concat(silence(300), speech(2500, { dbfs: -14, seed: 5 }), silence(3000)), noise(5800, -55, 9)));
    expect(throughGate(line)).toEqual({ differ: 0, cuts: 0 });
  });
});
