// gather on the test call: DTMF with finish key / max digits / inter-digit timeout, retries with
// reprompts, validation (noMatch), type-ahead from an interrupted prompt, speech through an STT.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioFolder } from '../../src/flow/audio.ts';
import type { FlowDefinition, GatherNode } from '../../src/flow/types.ts';
import { entered, ScriptedStt, ScriptedTts, startFlow } from './helpers.ts';

const menu = (gather: Partial<GatherNode>, extra: FlowDefinition['nodes'] = {}): FlowDefinition => ({
  id: 'menu',
  start: 'ask',
  nodes: {
    ask: { type: 'gather', prompt: { text: 'Press a key.' }, next: 'got', noInput: 'none', ...gather },
    got: { type: 'say', text: 'You chose {{input.value}} by {{input.source}}.', next: 'bye' },
    none: { type: 'say', text: 'Nothing.', next: 'bye' },
    bye: { type: 'hangup' },
    ...extra,
  },
});

const inputs = (h: ReturnType<typeof startFlow>) => h.flowEvents().filter((e) => e.type === 'flow.input').map((e) => e.data);

describe('gather (DTMF)', () => {
  it('collects digits until the finish key, interrupting the prompt, and stores the result', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ maxDigits: 6, resultVar: 'account' }), { deps: { tts } });
    await h.until((e) => e.type === 'playout.started');
    await h.advance(100);
    for (const d of ['4', '2']) {
      h.tc.dtmf(d);
      await h.advance(200);
    }
    h.tc.dtmf('#');
    const result = await h.finish();
    expect(result.variables.account).toBe('42');
    expect(tts.said).toEqual(['Press a key.', 'You chose 42 by dtmf.']);
    expect(inputs(h)).toEqual([{ flowId: 'menu', node: 'ask', attempt: 1, source: 'dtmf', value: '42', finishedBy: 'finish_key' }]);
    // The first key stopped the prompt (barge-in): the carrier was told to clear.
    expect(h.tc.eventsOfType('playout.cleared')).toHaveLength(1);
    expect(h.path()).toEqual(['ask', 'got', 'bye']);
  });

  it('ends on maxDigits, and on the inter-digit timeout measured on the media clock', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ maxDigits: 2 }), { deps: { tts } });
    await h.until((e) => e.type === 'playout.finished');
    h.tc.dtmf('1');
    h.tc.dtmf('2');
    await h.finish();
    expect(inputs(h)[0]).toMatchObject({ value: '12', finishedBy: 'max_digits' });

    const h2 = startFlow(menu({ maxDigits: 5, interDigitTimeoutMs: 1000 }), { deps: { tts } });
    await h2.until((e) => e.type === 'playout.finished');
    h2.tc.dtmf('7');
    const pressedAt = h2.tc.session.mediaMs();
    await h2.until((e) => e.type === 'flow.input');
    const input = h2.flowEvents().find((e) => e.type === 'flow.input') as { atMs?: number; data?: Record<string, unknown> };
    expect(input.data).toMatchObject({ value: '7', finishedBy: 'timeout' });
    const at = (h2.tc.events.find((e) => e.type === 'flow.input') as { atMs: number }).atMs;
    expect(at - pressedAt).toBeGreaterThanOrEqual(1000);
    expect(at - pressedAt).toBeLessThanOrEqual(1040);
    await h2.finish();
  });

  it('retries with the reprompt after no input, then takes noInput once the retries are spent', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ retries: 2, noInputTimeoutMs: 2000, reprompt: { text: 'Again please.' } }), { deps: { tts } });
    const result = await h.finish();
    expect(result.outcome).toBe('hangup');
    expect(tts.said).toEqual(['Press a key.', 'Again please.', 'Again please.', 'Nothing.']);
    expect(inputs(h).map((i) => i?.source)).toEqual(['none', 'none', 'none']);
    expect(h.path()).toEqual(['ask', 'none', 'bye']);
    // Each attempt waited the no-input timeout after its prompt had been heard.
    const finished = h.tc.eventsOfType('playout.finished').map((e) => e.atMs);
    const noInputs = h.tc.events.filter((e) => e.type === 'flow.input').map((e) => e.atMs);
    for (let i = 0; i < 3; i++) expect((noInputs[i] as number) - (finished[i] as number)).toBeGreaterThanOrEqual(2000);
  });

  it('answers on a later attempt', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ retries: 1, noInputTimeoutMs: 1000 }), { deps: { tts } });
    await h.until((e) => e.type === 'flow.input');
    await h.until((e) => e.type === 'playout.started' && e.label === 'gather:ask:2');
    h.tc.dtmf('3');
    const result = await h.finish();
    expect(inputs(h).map((i) => i?.source)).toEqual(['none', 'dtmf']);
    expect(result.lastNode).toBe('bye');
    expect(tts.said.at(-1)).toBe('You chose 3 by dtmf.');
  });

  it('rejects invalid input with the invalid prompt, then takes noMatch', async () => {
    const tts = new ScriptedTts();
    const flow = menu(
      { retries: 1, valid: "input.digits in ['1', '2']", invalidPrompt: { text: 'Not an option.' }, noMatch: 'bad' },
      { bad: { type: 'say', text: 'Bad choice {{input.value}}.', next: 'bye' } },
    );
    const h = startFlow(flow, { deps: { tts } });
    await h.until((e) => e.type === 'playout.started');
    h.tc.dtmf('9');
    await h.until((e) => e.type === 'flow.input.rejected');
    // Attempt 2 says the invalid prompt, then the prompt again; answer during the second one.
    await h.until(() => h.tc.eventsOfType('playout.started').length >= 3);
    h.tc.dtmf('8');
    await h.finish();
    expect(tts.said).toEqual(['Press a key.', 'Not an option.', 'Press a key.', 'Bad choice 8.']);
    expect(h.path()).toEqual(['ask', 'bad', 'bye']);
  });

  it('treats the finish key alone as no input', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ retries: 0 }), { deps: { tts } });
    await h.until((e) => e.type === 'playout.finished');
    h.tc.dtmf('#');
    await h.finish();
    expect(h.path()).toEqual(['ask', 'none', 'bye']);
  });

  it('keeps digits that interrupted an earlier say as type-ahead and skips the prompt', async () => {
    const tts = new ScriptedTts();
    const flow: FlowDefinition = {
      id: 'typeahead',
      start: 'welcome',
      nodes: {
        welcome: { type: 'say', text: 'Welcome to a very long greeting that callers skip.', interruptible: true, next: 'ask' },
        ask: { type: 'gather', prompt: { text: 'Press a key.' }, maxDigits: 1, next: 'bye', noInput: 'bye', resultVar: 'choice' },
        bye: { type: 'hangup' },
      },
    };
    const h = startFlow(flow, { deps: { tts } });
    await h.until((e) => e.type === 'playout.started');
    await h.advance(60);
    h.tc.dtmf('2');
    const result = await h.finish();
    expect(result.variables.choice).toBe('2');
    expect(tts.said).toEqual(['Welcome to a very long greeting that callers skip.']);
    expect(h.flowEvents().find((e) => e.type === 'flow.barge_in')?.data).toMatchObject({ node: 'welcome', by: 'dtmf' });
    const finished = h.tc.eventsOfType('playout.finished')[0];
    expect(finished?.interrupted).toBe(true);
    expect(finished?.heardMs).toBeLessThan(finished?.audioMs ?? 0);
  });

  it('does not let DTMF interrupt a non-interruptible prompt, but keeps the digits', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ interruptible: false }), { deps: { tts } });
    await h.until((e) => e.type === 'playout.started');
    h.tc.dtmf('5');
    await h.finish();
    expect(h.tc.eventsOfType('playout.cleared')).toHaveLength(0);
    expect(h.tc.eventsOfType('playout.finished')[0]?.interrupted).toBe(false);
    expect(inputs(h)[0]).toMatchObject({ value: '5' });
  });

  it('plays an audio prompt from the audio folder', async () => {
    const audio = new AudioFolder(path.resolve(import.meta.dirname, '../../fixtures'));
    const h = startFlow(menu({ prompt: { audio: 'greeting.wav' }, retries: 0, noInputTimeoutMs: 500 }), { deps: { audio, tts: new ScriptedTts() } });
    await h.finish();
    const started = h.tc.eventsOfType('playout.started')[0];
    expect(started?.label).toBe('gather:ask:1');
    expect(started?.audioMs).toBeGreaterThan(500);
  });
});

describe('gather (speech)', () => {
  it('takes the final transcript from the STT fed with the caller audio', async () => {
    const tts = new ScriptedTts();
    const stt = new ScriptedStt();
    stt.script.push({ afterMs: 1500, text: 'I want sales' });
    const h = startFlow(menu({ input: ['dtmf', 'speech'], resultVar: 'said' }), { deps: { tts, stt } });
    const result = await h.finish();
    expect(result.variables.said).toBe('I want sales');
    expect(tts.said.at(-1)).toBe('You chose I want sales by speech.');
    expect(inputs(h)[0]).toMatchObject({ source: 'speech', finishedBy: 'final' });
    expect(stt.opened).toBe(1);
    expect(stt.closed).toBe(1);
  });

  it('without an STT collects DTMF only (and says so), or fails a speech-only gather to its error exit', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ input: ['dtmf', 'speech'] }), { deps: { tts } });
    await h.until((e) => e.type === 'playout.finished');
    h.tc.dtmf('1');
    await h.finish();
    expect(h.flowEvents().find((e) => e.type === 'flow.warning')?.data).toMatchObject({ code: 'GW_ERR_FLOW_SPEECH_UNAVAILABLE' });
    expect(inputs(h)[0]).toMatchObject({ value: '1' });

    const speechOnly = menu({ input: ['speech'], onError: 'none' });
    const h2 = startFlow(speechOnly, { deps: { tts } });
    await h2.finish();
    expect(h2.path()).toEqual(['ask', 'none', 'bye']);
    expect(h2.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ node: 'ask', code: 'GW_ERR_FLOW_SPEECH_UNAVAILABLE' });
  });

  it('stops listening when the call ends mid-gather, and the run ends quietly', async () => {
    const tts = new ScriptedTts();
    const stt = new ScriptedStt();
    stt.script.push(null);
    const h = startFlow(menu({ input: ['speech'], noInputTimeoutMs: 10_000 }), { deps: { tts, stt } });
    await h.until(entered('ask'));
    await h.advance(500);
    h.tc.session.end('caller_hung_up');
    const result = await h.finish();
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toBe('call_ended');
    expect(stt.closed).toBe(1);
  });
});

describe('gather (duplicate DTMF)', () => {
  it('counts a key reported by both the carrier and the in-band detector once, but keeps real repeats', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(menu({ maxDigits: 4, interDigitTimeoutMs: 1000 }), { deps: { tts } });
    await h.until((e) => e.type === 'playout.finished');
    const s = h.tc.session;
    s.emit({ type: 'dtmf', atMs: s.mediaMs(), digit: '1', source: 'inband' });
    h.tc.dtmf('1');
    await h.advance(400);
    h.tc.dtmf('1');
    await h.advance(40);
    s.emit({ type: 'dtmf', atMs: s.mediaMs(), digit: '1', source: 'inband' });
    await h.advance(400);
    h.tc.dtmf('2');
    await h.finish();
    expect(inputs(h)[0]).toMatchObject({ value: '112', finishedBy: 'timeout' });
  });
});
