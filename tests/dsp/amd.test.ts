import { describe, expect, it } from 'vitest';
import { AmdStateMachine, type AmdFrame } from '../../dsp/amd.ts';
import { AmdDetector, type AmdDetectorOptions } from './amdDetector.ts';
import { DetectorChain, type ChainEvent } from '../../dsp/chain.ts';
import { analyseRecording } from '../../dsp/analyse.ts';
import { add, concat, dtmf, frames, noise, pcm, silence, speech, tone } from './signals.ts';

interface Outcome {
  result: string;
  answeredBy: string;
  verdictMs: number;
  messageEnd: string | null;
  messageEndMs: number | null;
  reason: string;
}

function run(x: Float64Array, opts: AmdDetectorOptions = {}, d = new AmdDetector(opts)): Outcome {
  const o: Outcome = { result: 'none', answeredBy: 'none', verdictMs: -1, messageEnd: null, messageEndMs: null, reason: '' };
  frames(pcm(x), (f) => {
    const r: AmdFrame = d.process(f);
    if (r.verdict) Object.assign(o, { result: r.result, answeredBy: r.answeredBy, verdictMs: r.verdictSample / 8, reason: r.reason });
    if (r.messageEnd) Object.assign(o, { messageEnd: r.messageEndAnsweredBy, messageEndMs: r.messageEndSample / 8 });
  });
  return o;
}

/** A call line: the signal over steady noise 45 dB below full scale. */
function line(...parts: Float64Array[]): Float64Array {
  const x = concat(...parts);
  return add(x, noise(x.length / 8, -60, 77));
}

describe('AMD state machine', () => {
  it('timing rules: calls a short answer followed by silence human, within 1.2 s of the end of the answer', () => {
    for (const [seed, ms] of [[1, 450], [2, 900], [3, 1500]] as const) {
      const o = run(line(silence(700), speech(ms, { seed }), silence(3000)), { model: false });
      expect(o.result, `${ms} ms answer`).toBe('human');
      expect(o.answeredBy).toBe('human');
      expect(o.verdictMs - (700 + ms)).toBeLessThanOrEqual(1200);
      expect(o.verdictMs - (700 + ms)).toBeGreaterThan(500);
    }
  });

  it('classifier: a short answer then silence is a person, decided at a pause checkpoint (0.8, 1.1, 1.4 or 2 s)', () => {
    for (const [seed, ms] of [[1, 450], [2, 900], [3, 1500]] as const) {
      const o = run(line(silence(700), speech(ms, { seed }), silence(3000)));
      expect(o.result, `${ms} ms answer`).toBe('human');
      const after = o.verdictMs - (700 + ms);
      expect(after).toBeGreaterThan(700);
      expect(after).toBeLessThanOrEqual(2100);
      expect(o.reason).toMatch(/p\(machine\) 0\.\d\d/);
    }
  });

  it('classifier: the silence a person verdict needs depends on what was said', () => {
    // One short stretch ("Hello?"): from 0.8 s of silence. One stretch of 1–2 s, where greetings pause
    // about a second and go on: not before 1.4 s.
    const short = run(line(silence(600), speech(600, { seed: 11 }), silence(3000)));
    expect(short.result).toBe('human');
    expect(short.verdictMs - 1200).toBeLessThan(1100);
    const band = run(line(silence(600), speech(1400, { seed: 12 }), silence(3000)));
    expect(band.result).toBe('human');
    expect(band.verdictMs - 2000).toBeGreaterThanOrEqual(1350);
  });

  it('classifier: "Hello?", a pause, then a sentence is a person, not one 5 s utterance', () => {
    // Speech checkpoints time the current stretch: 0.9 s + 0.6 s pause + 3.8 s is two stretches.
    const o = run(line(silence(500), speech(900, { seed: 13 }), silence(600), speech(3800, { seed: 14 }), silence(3000)));
    expect(o.result).toBe('human');
  });

  it('classifier: a greeting that pauses a second after a 1.3 s opening is not called human at its pause; its beep decides', () => {
    const x = line(silence(500), speech(1300, { seed: 7 }), silence(1000), speech(1500, { seed: 8 }), silence(300), tone(1000, 300, -18), silence(1500));
    const o = run(x);
    expect(o.result).toBe('machine');
    expect(o.answeredBy).toBe('machine_end_beep');
  });

  it('classifier: a person whose sentence runs past 2.4 s and then waits is not called a machine', () => {
    const o = run(line(silence(600), speech(2900, { seed: 6 }), silence(3000)));
    expect(o.result).toBe('human');
  });

  it('classifier: a long greeting is a machine by 5 s of one stretch at the latest, ended at the beep', () => {
    const x = line(silence(500), speech(6000, { seed: 4 }), silence(600), tone(1000, 400, -18), silence(1500));
    const o = run(x);
    expect(o.result).toBe('machine');
    expect(o.answeredBy).toBe('machine_start');
    expect(o.verdictMs).toBeGreaterThanOrEqual(2800);
    expect(o.verdictMs).toBeLessThanOrEqual(5600);
    expect(o.messageEnd).toBe('machine_end_beep');
    expect(o.messageEndMs! - 7500).toBeGreaterThanOrEqual(0);
    expect(o.messageEndMs! - 7500).toBeLessThanOrEqual(60);
  });

  it('classifier: a greeting of 2–5 s ending in a beep is a machine by its beep, not a person at its end', () => {
    const x = line(silence(500), speech(3500, { seed: 15 }), silence(700), tone(1000, 300, -18), silence(1500));
    const o = run(x);
    expect(o.result).toBe('machine');
    expect(o.answeredBy).toBe('machine_end_beep');
  });

  it('timing rules: calls a long greeting machine and, in message-end mode, ends it at the beep', () => {
    const x = line(silence(500), speech(5000, { seed: 4 }), silence(600), tone(1000, 400, -18), silence(1500));
    const o = run(x, { model: false });
    expect(o.result).toBe('machine');
    expect(o.answeredBy).toBe('machine_start');
    expect(o.verdictMs).toBeGreaterThanOrEqual(2800);
    expect(o.verdictMs).toBeLessThanOrEqual(3100);
    expect(o.messageEnd).toBe('machine_end_beep');
    expect(o.messageEndMs! - 6500).toBeGreaterThanOrEqual(0);
    expect(o.messageEndMs! - 6500).toBeLessThanOrEqual(60);
  });

  it('in fast mode stops at the machine verdict', () => {
    const x = line(silence(500), speech(6000, { seed: 4 }), silence(600), tone(1000, 400, -18), silence(1500));
    const o = run(x, { mode: 'fast' });
    expect(o.answeredBy).toBe('machine_start');
    expect(o.messageEnd).toBeNull();
  });

  it('ends a greeting without a beep on silence, and a greeting that never ends on the total timeout', () => {
    // 6 s of speech: a machine at 5 s whatever the classifier says (maxSpeechMs).
    const quiet = run(line(silence(400), speech(6000, { seed: 5 }), silence(3000)));
    expect(quiet.messageEnd).toBe('machine_end_silence');
    expect(quiet.messageEndMs! - 6400).toBeGreaterThanOrEqual(1400);
    expect(quiet.messageEndMs! - 6400).toBeLessThanOrEqual(1800);
    const endless = run(line(silence(300), speech(9000, { seed: 6, pauseMs: 150 })), { totalTimeoutMs: 8000 });
    expect(endless.messageEnd).toBe('machine_end_other');
    expect(endless.messageEndMs).toBe(8000);
  });

  it('reports dead air as unknown at the silence timeout', () => {
    const o = run(line(silence(7000)), { silenceTimeoutMs: 4000 });
    expect(o).toMatchObject({ result: 'unknown', answeredBy: 'unknown', verdictMs: 4000 });
  });

  it('calls a beep with no greeting machine_end_beep, a fax tone fax, and a key press human', () => {
    expect(run(line(silence(800), tone(1400, 500, -15), silence(1500)))).toMatchObject({ result: 'machine', answeredBy: 'machine_end_beep' });
    expect(run(line(silence(800), tone(2100, 3000, -15), silence(500)))).toMatchObject({ result: 'fax', answeredBy: 'fax' });
    const cng = concat(silence(500), tone(1100, 500, -15), silence(3000), tone(1100, 500, -15), silence(500));
    expect(run(line(cng))).toMatchObject({ result: 'fax', answeredBy: 'fax' });
    // On a weak line (−52 dBFS) the beep detector hears tones: the fax detector must hear CNG as low.
    const weakCng = concat(silence(500), tone(1100, 500, -52), silence(3000), tone(1100, 500, -52), silence(500));
    expect(run(line(weakCng))).toMatchObject({ result: 'fax', answeredBy: 'fax' });
    expect(run(line(silence(900), dtmf('5', 120), silence(2000)))).toMatchObject({ result: 'human', reason: 'key press (in-band DTMF)' });
  });

  it('gives the same verdicts at the same media times through the detector, the chain and the offline analysis', () => {
    const x = line(silence(500), speech(4000, { seed: 8 }), silence(500), tone(850, 300, -20), silence(1200));
    const direct = run(x);
    const events: ChainEvent[] = [];
    const chain = new DetectorChain({ amd: {}, vad: false, beep: false, dtmfInband: false, fax: false }, (e) => events.push(e));
    frames(pcm(x), (f) => chain.process(f));
    const offline = analyseRecording(pcm(x));
    expect(events.map((e) => [e.type, e.atSample / 8])).toEqual([
      ['amd.verdict', direct.verdictMs],
      ['amd.message_end', direct.messageEndMs],
    ]);
    expect(offline.decisionMs).toBe(direct.verdictMs);
    expect(offline.messageEndMs).toBe(direct.messageEndMs);
    expect(offline.answeredBy).toBe('machine_end_beep');
  });

  it('keeps no state between instances: two calls interleaved frame by frame decide as if alone', () => {
    const human = pcm(line(silence(600), speech(700, { seed: 1 }), silence(2500)));
    const machine = pcm(line(silence(300), speech(4000, { seed: 2 }), silence(300), tone(1000, 300, -18), silence(1000)));
    const a = new AmdDetector();
    const b = new AmdDetector();
    const ra: string[] = [];
    const rb: string[] = [];
    const fa = new Int16Array(160);
    const fb = new Int16Array(160);
    for (let s = 0; s + 160 <= Math.max(human.length, machine.length); s += 160) {
      if (s + 160 <= human.length) {
        fa.set(human.subarray(s, s + 160));
        const r = a.process(fa);
        if (r.verdict) ra.push(`${r.answeredBy}@${r.verdictSample}`);
      }
      if (s + 160 <= machine.length) {
        fb.set(machine.subarray(s, s + 160));
        const r = b.process(fb);
        if (r.verdict) rb.push(`${r.answeredBy}@${r.verdictSample}`);
        if (r.messageEnd) rb.push(`${r.messageEndAnsweredBy}@${r.messageEndSample}`);
      }
    }
    const alone = (x: Int16Array): string[] => {
      const r = analyseRecording(x);
      return r.events.filter((e) => e.type === 'amd.verdict' || e.type === 'amd.message_end').map((e) => `${(e as { answeredBy: string }).answeredBy}@${e.atSample}`);
    };
    expect(ra).toEqual(alone(human));
    expect(rb).toEqual(alone(machine));
  });

  it('is back to its initial state after reset()', () => {
    const d = new AmdDetector();
    run(line(silence(300), speech(3000, { seed: 3 })), {}, d);
    d.reset();
    const x = line(silence(600), speech(600, { seed: 9 }), silence(2500));
    expect(run(x, {}, d)).toEqual(run(x));
  });

  it('validates its parameters', () => {
    expect(() => new AmdStateMachine({ speechThresholdMs: 0 })).toThrow(RangeError);
    expect(() => new AmdStateMachine({ mode: 'slow' as never })).toThrow(RangeError);
    expect(() => new AmdStateMachine({ silenceTimeoutMs: 9000, totalTimeoutMs: 5000 })).toThrow(RangeError);
  });
});
