// AMD on the labelled corpus (fixtures/amd). The tune split is what the classifier was trained on
// (bench/train-amd.ts), so it must stay at its figures; the held-out split is checked against floors
// just under what it reaches, which catch a regression without pretending every target is met.
import { describe, expect, it } from 'vitest';
import { evaluateAmd, type EvalReport } from '../../bench/eval-amd.ts';

let report: Promise<EvalReport> | undefined;
const evaluate = (): Promise<EvalReport> => (report ??= evaluateAmd());

describe('AMD on the labelled corpus', () => {
  // The targets are accuracy ≥ 98%, people called machines ≤ 0.5%, beep recall ≥ 98%, false
  // beeps ≤ 0.5%, beep ≤ 150 ms after its end, human verdict ≤ 1.2 s after the answer (medians). On the
  // grown corpus (people who pause after "Hello?", greetings that pause, vowels) the classifier reaches
  // 87–88% with 2–2.5% people called machines, against 66–72% and 27–34% for the timing rules (README,
  // AMD section): the floors below sit just under what it reaches, so a regression fails.
  it('meets its figures on the tune split (what the classifier was trained on)', async () => {
    const tune = (await evaluate()).splits.find((s) => s.split === 'tune')!;
    expect(tune.humans + tune.machines).toBeGreaterThan(150);
    expect(tune.humanMachineAccuracy).toBeGreaterThanOrEqual(0.87);
    expect(tune.humansCalledMachine).toBeLessThanOrEqual(0.03);
    // The revision window catches the beeps of greetings called human at their pause (95.3% here).
    expect(tune.humanMachineAccuracyRevised).toBeGreaterThanOrEqual(0.93);
    expect(tune.beepRecall).toBeGreaterThanOrEqual(0.97);
    expect(tune.falseBeeps).toBeLessThanOrEqual(0.01);
    expect(tune.medianBeepLatencyMs).toBeLessThanOrEqual(150);
    expect(tune.medianHumanVerdictAfterUtteranceMs).toBeLessThanOrEqual(1200);
    expect(tune.faxAccuracy).toBe(1);
    expect(tune.deadAirAccuracy).toBe(1);
  }, 120_000);

  it('stays above regression floors on the held-out split (never tuned on)', async () => {
    const held = (await evaluate()).splits.find((s) => s.split === 'heldout')!;
    expect(held.humans + held.machines).toBeGreaterThan(120);
    expect(held.humanMachineAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(held.humansCalledMachine).toBeLessThanOrEqual(0.03);
    expect(held.humansCalledMachineRevised).toBeLessThanOrEqual(0.03);
    expect(held.humanMachineAccuracyRevised).toBeGreaterThanOrEqual(0.93);
    expect(held.beepRecall).toBeGreaterThanOrEqual(0.96);
    expect(held.falseBeeps).toBeLessThanOrEqual(0.01);
    expect(held.medianBeepLatencyMs).toBeLessThanOrEqual(150);
    expect(held.medianHumanVerdictAfterUtteranceMs).toBeLessThanOrEqual(1200);
  }, 120_000);

  it('says confidences that the tune split bears out (calibration fitted there)', async () => {
    const tune = (await evaluate()).splits.find((s) => s.split === 'tune')!;
    const big = tune.reliability.filter((b) => b.files >= 10);
    expect(big.length).toBeGreaterThan(0);
    for (const b of big) expect(Math.abs(b.accuracy! - b.meanConfidence!), `bin ${b.lo}–${b.hi}`).toBeLessThanOrEqual(0.1);
    expect(tune.reliability.reduce((a, b) => a + b.files, 0)).toBe(tune.humans + tune.machines);
  }, 120_000);

  it('answers every corpus file the way the CLI prints it: a result, a carrier detail and a reason', async () => {
    for (const o of (await evaluate()).outcomes) {
      expect(['human', 'machine', 'fax', 'unknown']).toContain(o.result);
      expect(o.reason.length).toBeGreaterThan(0);
      if (o.result === 'machine') expect(o.answeredBy).toMatch(/^machine_/);
      if (o.result !== 'unknown') expect(o.confidence).toBeGreaterThan(0.5);
    }
  }, 120_000);
});
