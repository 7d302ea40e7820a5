// AMD on the labelled corpus (fixtures/amd). The tune split is what the defaults were tuned on, so it
// must stay at its tuned figures; the held-out split is checked against looser floors that catch a
// regression without pretending the targets are met there (see the issue note for the figures).
import { describe, expect, it } from 'vitest';
import { evaluateAmd, type EvalReport } from '../../bench/eval-amd.ts';

let report: Promise<EvalReport> | undefined;
const evaluate = (): Promise<EvalReport> => (report ??= evaluateAmd());

describe('AMD on the labelled corpus', () => {
  it('meets the targets on the tune split', async () => {
    const tune = (await evaluate()).splits.find((s) => s.split === 'tune')!;
    expect(tune.humans + tune.machines).toBeGreaterThan(20);
    expect(tune.humanMachineAccuracy).toBeGreaterThanOrEqual(0.98);
    expect(tune.humansCalledMachine).toBeLessThanOrEqual(0.005);
    expect(tune.beepRecall).toBeGreaterThanOrEqual(0.98);
    expect(tune.falseBeeps).toBeLessThanOrEqual(0.01);
    expect(tune.medianBeepLatencyMs).toBeLessThanOrEqual(150);
    expect(tune.medianHumanVerdictAfterUtteranceMs).toBeLessThanOrEqual(1200);
    expect(tune.faxAccuracy).toBe(1);
    expect(tune.deadAirAccuracy).toBe(1);
  }, 120_000);

  it('stays above regression floors on the held-out split', async () => {
    const held = (await evaluate()).splits.find((s) => s.split === 'heldout')!;
    expect(held.humans + held.machines).toBeGreaterThan(10);
    // Floors just under today's figures (96.1%, 3.2%, 93.8%, 0%): the targets are not met here yet.
    expect(held.humanMachineAccuracy).toBeGreaterThanOrEqual(0.94);
    expect(held.humansCalledMachine).toBeLessThanOrEqual(0.05);
    expect(held.humansCalledMachineRevised).toBeLessThanOrEqual(0.05);
    expect(held.beepRecall).toBeGreaterThanOrEqual(0.9);
    expect(held.falseBeeps).toBeLessThanOrEqual(0.02);
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
