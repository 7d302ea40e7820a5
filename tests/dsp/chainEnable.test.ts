// Detectors run only while something needs them: DetectorChain.enable turns them off (no events, no
// per-frame work) and back on (from a fresh state); the call glue looks for fax tones in the first
// seconds only and stops the beep detector once a person answered.
import { describe, expect, it } from 'vitest';
import { DetectorChain, type ChainEvent } from '../../dsp/chain.ts';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { attachDetectors, FAX_WINDOW_MS } from '../../src/call/detectors.ts';
import { createTestCall } from '../helpers/testCall.ts';
import { concat, dtmf, pcm, silence, speech, tone } from './signals.ts';

function run(chain: DetectorChain, samples: Int16Array): void {
  for (let off = 0; off + FRAME_SAMPLES <= samples.length; off += FRAME_SAMPLES) chain.process(samples.subarray(off, off + FRAME_SAMPLES));
}

describe('DetectorChain.enable', () => {
  it('starts, stops and restarts in-band DTMF and beep detection', () => {
    const events: ChainEvent[] = [];
    const chain = new DetectorChain({ amd: false, vad: true, beep: false, dtmfInband: false, fax: false }, (e) => events.push(e));
    const keyAndBeep = pcm(concat(silence(200), dtmf('5', 100), silence(300), tone(1000, 300, -18), silence(300)));
    run(chain, keyAndBeep);
    expect(events.filter((e) => e.type === 'dtmf' || e.type === 'beep')).toEqual([]);

    chain.enable({ dtmf: true, beep: true });
    run(chain, keyAndBeep);
    expect(events.filter((e) => e.type === 'dtmf').map((e) => e.type === 'dtmf' && e.digit)).toEqual(['5']);
    expect(events.filter((e) => e.type === 'beep')).toHaveLength(1);

    chain.enable({ dtmf: false, beep: false });
    run(chain, keyAndBeep);
    expect(events.filter((e) => e.type === 'dtmf')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'beep')).toHaveLength(1);
  });
});

describe('detector gating on a call', () => {
  it(`reports fax tones in the first ${FAX_WINDOW_MS / 1000} s only`, async () => {
    const early = createTestCall();
    attachDetectors(early.session, { amd: false, vad: true, beep: false, fax: true, dtmfInband: false });
    await early.feed(pcm(concat(silence(1000), tone(1100, 500, -15), silence(3000), tone(1100, 500, -15), silence(500))));
    expect(early.eventsOfType('fax.tone').length).toBeGreaterThan(0);

    const late = createTestCall();
    attachDetectors(late.session, { amd: false, vad: true, beep: false, fax: true, dtmfInband: false });
    await late.feed(pcm(concat(silence(FAX_WINDOW_MS + 500), tone(1100, 500, -15), silence(3000), tone(1100, 500, -15), silence(500))));
    expect(late.eventsOfType('fax.tone')).toEqual([]);
  });

  it('stops looking for a voicemail beep once a person answered', async () => {
    const call = createTestCall();
    attachDetectors(call.session, { amd: { mode: 'message-end' }, vad: true, beep: true, fax: false, dtmfInband: false });
    await call.feed(pcm(concat(silence(300), speech(900, { seed: 3 }), silence(2500), tone(1000, 400, -18), silence(800))));
    expect(call.eventsOfType('amd.verdict')[0]).toMatchObject({ answeredBy: 'human' });
    expect(call.eventsOfType('beep')).toEqual([]);
  });
});
