// The call glue: one frame consumer on a real CallSession (fed through the simulated carrier as mu-law)
// turns detector findings into timeline events on the media clock.
import { describe, expect, it } from 'vitest';
import { attachDetectors, defaultDetectorOptions } from '../../src/call/detectors.ts';
import { createTestCall } from '../helpers/testCall.ts';
import { add, concat, dtmf, noise, pcm, silence, speech, tone } from './signals.ts';

describe('attachDetectors', () => {
  it('emits speech, AMD verdict, beep and message end on the media clock', async () => {
    const call = createTestCall();
    const detach = attachDetectors(call.session, { amd: { mode: 'message-end' }, vad: true, beep: true, fax: true, dtmfInband: false });
    const audio = concat(silence(500), speech(5500, { seed: 4 }), silence(600), tone(1000, 400, -18), silence(1500));
    await call.feed(pcm(add(audio, noise(audio.length / 8, -60, 5))));
    detach();
    const types = call.events.filter((e) => e.type !== 'call.started').map((e) => e.type);
    expect(types[0]).toBe('speech.started');
    expect(types).toContain('amd.verdict');
    const verdict = call.eventsOfType('amd.verdict');
    expect(verdict).toHaveLength(1);
    expect(verdict[0]).toMatchObject({ result: 'machine', answeredBy: 'machine_start' });
    // One stretch of 5 s is a machine whatever the classifier says (maxSpeechMs): ≈ 5.5 s here.
    expect(verdict[0]!.atMs).toBeGreaterThanOrEqual(5400);
    expect(verdict[0]!.atMs).toBeLessThanOrEqual(5700);
    const beep = call.eventsOfType('beep');
    expect(beep).toHaveLength(1);
    expect(beep[0]!.frequencyHz).toBeGreaterThan(990);
    expect(beep[0]!.frequencyHz).toBeLessThan(1010);
    expect(beep[0]!.atMs - 7000).toBeLessThanOrEqual(60);
    expect(call.eventsOfType('amd.message_end')).toEqual([
      expect.objectContaining({ answeredBy: 'machine_end_beep', atMs: beep[0]!.atMs }),
    ]);
    const times = call.events.map((e) => e.atMs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('reports in-band DTMF with source inband, and nothing after detach', async () => {
    const call = createTestCall();
    const detach = attachDetectors(call.session, { amd: false, vad: false, beep: false, fax: false, dtmfInband: true });
    await call.feed(pcm(concat(silence(300), dtmf('7', 80), silence(200))));
    expect(call.eventsOfType('dtmf')).toEqual([expect.objectContaining({ digit: '7', source: 'inband' })]);
    detach();
    await call.feed(pcm(concat(dtmf('9', 80), silence(200))));
    expect(call.eventsOfType('dtmf')).toHaveLength(1);
  });

  it('revises a human verdict to machine when the callee talks over the prompt the call is playing', async () => {
    const call = createTestCall();
    const detach = attachDetectors(call.session, { amd: { mode: 'fast' }, vad: true, beep: true, fax: true, dtmfInband: false });
    const answer = concat(silence(600), speech(900, { seed: 6 }), silence(1300));
    await call.feed(pcm(add(answer, noise(answer.length / 8, -60, 5))));
    expect(call.eventsOfType('amd.verdict')).toEqual([expect.objectContaining({ result: 'human' })]);
    const at = call.session.mediaMs();
    call.session.emit({ type: 'playout.started', atMs: at, playbackId: 'p1', label: 'greeting', audioMs: 4000 });
    const talk = concat(speech(3000, { seed: 7, pauseMs: 60 }), silence(500));
    await call.feed(pcm(add(talk, noise(talk.length / 8, -60, 6))));
    detach();
    expect(call.eventsOfType('amd.revised')).toEqual([expect.objectContaining({ result: 'machine', answeredBy: 'machine_start', previous: 'human' })]);
    expect(call.eventsOfType('amd.revised')[0]!.atMs - at).toBeGreaterThanOrEqual(1500);
  });

  it('runs AMD on outbound calls by default, not on inbound ones', () => {
    expect(defaultDetectorOptions('outbound').amd).toEqual({ mode: 'message-end' });
    expect(defaultDetectorOptions('inbound').amd).toBe(false);
  });
});
