// In-band DTMF follows the flow's listening state: the detector runs while a gather, an interruptible
// prompt or an agent listens for keys (CallControl.listenFor('keys')), and not otherwise. Carrier DTMF is
// not affected.
import { describe, expect, it } from 'vitest';
import { attachDetectors, defaultDetectorOptions } from '../../src/call/detectors.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { add, concat, dtmf, noise, pcm, silence, speech, tone } from '../dsp/signals.ts';
import { ScriptedTts, startFlow } from '../flow/helpers.ts';
import { createTestCall } from '../helpers/testCall.ts';

const key = (digit: string) => pcm(concat(dtmf(digit, 80), silence(200)));
const inband = (events: readonly { type: string }[]) => events.filter((e) => e.type === 'dtmf' && (e as { source?: string }).source === 'inband').map((e) => (e as { digit?: string }).digit);

describe('in-band DTMF and the listening signal', () => {
  it('detects keys only while something listens, until the last listener lets go', async () => {
    const call = createTestCall();
    attachDetectors(call.session, defaultDetectorOptions('inbound'));
    const states: boolean[] = [];
    call.session.watchListening('keys', (listening) => states.push(listening));
    await call.feed(key('1')); // nobody listens
    const gather = call.session.listenFor('keys');
    await call.feed(key('2'));
    const prompt = call.session.listenFor('keys'); // overlapping listeners
    gather();
    gather(); // a second release of the same listener does nothing
    await call.feed(key('3'));
    prompt();
    await call.feed(key('4'));
    expect(inband(call.events)).toEqual(['2', '3']);
    expect(states).toEqual([false, true, false]);
    // Carrier DTMF arrives whatever the listening state.
    call.session.receiveDtmf('9');
    expect(call.events.filter((e) => e.type === 'dtmf' && e.source === 'carrier').map((e) => (e as { digit: string }).digit)).toEqual(['9']);
  });

  it('a flow listens during a gather and an interruptible prompt, not during a prompt that cannot be interrupted', async () => {
    const flow: FlowDefinition = {
      id: 'listen',
      start: 'welcome',
      nodes: {
        welcome: { type: 'say', text: 'Welcome.', next: 'menu' },
        menu: { type: 'say', text: 'Press one for sales.', interruptible: true, next: 'ask' },
        ask: { type: 'gather', maxDigits: 2, interDigitTimeoutMs: 1000, resultVar: 'choice', next: 'bye', noInput: 'bye' },
        bye: { type: 'hangup' },
      },
    };
    const h = startFlow(flow, { deps: { tts: new ScriptedTts() } });
    attachDetectors(h.tc.session, defaultDetectorOptions('inbound'));
    const states: Array<[boolean, number]> = [];
    h.tc.session.watchListening('keys', (listening) => states.push([listening, h.tc.session.mediaMs()]));
    await h.until((e) => e.type === 'playout.started');
    await h.tc.feed(key('5')); // during "Welcome." (not interruptible): not listened for
    await h.until((e) => e.type === 'flow.node.entered' && e.data?.node === 'menu');
    await h.until((e) => e.type === 'playout.started' && e.atMs > 0);
    await h.tc.feed(key('1')); // interrupts "Press one…" and is type-ahead for the gather
    await h.until((e) => e.type === 'flow.node.entered' && e.data?.node === 'ask');
    await h.tc.feed(key('2'));
    const result = await h.finish();
    expect(result.variables.choice).toBe('12');
    expect(inband(h.tc.events)).toEqual(['1', '2']);
    // Off at the start, on for the menu prompt and the gather, off after.
    expect(states[0]?.[0]).toBe(false);
    expect(states.at(-1)?.[0]).toBe(false);
    expect(states.filter(([on]) => on).length).toBeGreaterThanOrEqual(1);
  });

  it('outbound: beeps are reported during the greeting, and after its end only while something listens for one', async () => {
    const call = createTestCall({ direction: 'outbound' });
    attachDetectors(call.session, defaultDetectorOptions('outbound'));
    const beep = () => pcm(concat(tone(1000, 400, -18), silence(1500)));
    // A voicemail greeting that ends in a beep: AMD's message end, and the beep event with it.
    const greeting = concat(silence(500), speech(4000, { seed: 4 }), silence(600));
    await call.feed(pcm(add(greeting, noise(greeting.length / 8, -60, 5))));
    await call.feed(beep());
    expect(call.eventsOfType('amd.message_end')).toHaveLength(1);
    expect(call.eventsOfType('beep')).toHaveLength(1);
    await call.feed(pcm(silence(6000))); // past AMD's revision window
    await call.feed(beep()); // nobody waits for a beep now
    expect(call.eventsOfType('beep')).toHaveLength(1);
    const voicemail = call.session.listenFor('beep'); // a voicemail node waits for the end of the greeting
    await call.feed(pcm(silence(500)));
    await call.feed(beep());
    expect(call.eventsOfType('beep')).toHaveLength(2);
    voicemail();
    await call.feed(beep());
    expect(call.eventsOfType('beep')).toHaveLength(2);
  });
});
