// Outcomes of calls that ran real flows (the runner on a simulated call), and the rules for calls
// that ended in every other way, in the fixed vocabulary.
import { describe, expect, it } from 'vitest';
import { addFact, deriveOutcome, emptyFacts, type OutcomeFacts, type OutcomeRow } from '../../src/analytics/outcome.ts';
import { buildTranscript } from '../../src/analytics/transcript.ts';
import type { CallEvent } from '../../src/call/events.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { validateFlow } from '../../src/flow/validate.ts';
import { CALL_OUTCOME_CATEGORIES, FAILURE_REASONS } from '../../src/outcome/vocabulary.ts';
import { ScriptedTts, startFlow } from '../flow/helpers.ts';

const connected: OutcomeRow = { status: 'completed', answeredAt: '2026-01-01T00:00:00.000Z', streamId: 'MZ1', endReason: null, amdResult: null };

function factsOf(events: readonly { type: string }[]): OutcomeFacts {
  const f = emptyFacts();
  for (const e of events) addFact(f, e as Parameters<typeof addFact>[1]);
  return f;
}

const booking = (answer: string): FlowDefinition => ({
  id: 'booking',
  start: 'greet',
  successWhen: "vars.disposition == 'appointment_booked'",
  dispositions: ['appointment_booked', 'not_interested'],
  nodes: {
    greet: { type: 'say', text: 'We can book you in.', next: 'mark' },
    mark: { type: 'set', values: { disposition: answer }, next: 'bye' },
    bye: { type: 'hangup', reason: 'goodbye' },
  },
});

describe('outcome of a flow run', () => {
  it('is success when successWhen holds, with the disposition the flow set', async () => {
    const h = startFlow(booking('appointment_booked'), { deps: { tts: new ScriptedTts() } });
    await h.finish();
    const ended = h.tc.events.find((e) => e.type === 'flow.ended') as { data?: Record<string, unknown> };
    expect(ended.data).toMatchObject({ success: true, disposition: 'appointment_booked' });
    expect(deriveOutcome(connected, factsOf(h.tc.events))).toEqual({ category: 'success', failureReason: null, disposition: 'appointment_booked' });
  });

  it('is completed when successWhen is false; a hangup reason is the disposition when nothing else set one', async () => {
    const h = startFlow(booking('not_interested'), { deps: { tts: new ScriptedTts() } });
    await h.finish();
    expect(deriveOutcome(connected, factsOf(h.tc.events))).toEqual({ category: 'completed', failureReason: null, disposition: 'not_interested' });
    const plain: FlowDefinition = { id: 'p', start: 'bye', nodes: { bye: { type: 'hangup', reason: 'callback' } } };
    const h2 = startFlow(plain, {});
    await h2.finish();
    expect(deriveOutcome(connected, factsOf(h2.tc.events))).toEqual({ category: 'completed', failureReason: null, disposition: 'callback' });
  });

  it('is caller-hung-up-early when the caller leaves mid-prompt, and the transcript is cut where they left', async () => {
    const flow: FlowDefinition = {
      id: 'long',
      start: 'talk',
      nodes: { talk: { type: 'say', text: 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty', next: 'bye' }, bye: { type: 'hangup' } },
    };
    const h = startFlow(flow, { deps: { tts: new ScriptedTts() } });
    await h.advance(400);
    h.tc.session.end('stream_stopped');
    await h.finish();
    const o = deriveOutcome({ ...connected, endReason: 'stream_stopped' }, factsOf(h.tc.events));
    expect(o).toEqual({ category: 'failed', failureReason: 'caller-hung-up-early', disposition: null });
    const transcript = buildTranscript(h.tc.events);
    expect(transcript).toHaveLength(1);
    const turn = transcript[0];
    expect(turn?.speaker).toBe('gateway');
    expect(turn?.interrupted).toBe(true);
    expect(turn?.text.endsWith('…')).toBe(true);
    expect(turn?.text.split(' ').length).toBeLessThan(20);
  });

  it('is flow-error when a node fails without onError (after the fallback)', async () => {
    const flow: FlowDefinition = { id: 'broken', start: 'ask', nodes: { ask: { type: 'say', audio: 'missing.wav', next: 'bye' }, bye: { type: 'hangup' } } };
    const h = startFlow(flow, { deps: { tts: new ScriptedTts() } });
    const r = await h.finish();
    const o = deriveOutcome({ ...connected, endReason: r.reason }, factsOf(h.tc.events));
    expect(o.category).toBe('failed');
    expect(o.failureReason).toBe('flow-error');
  });

  it('validation refuses an invalid successWhen, naming the field', () => {
    const bad = validateFlow({ ...booking('x'), successWhen: 'vars.a ==' });
    expect(bad.ok).toBe(false);
    expect(bad.errors.map((e) => e.path)).toContain('successWhen');
    expect(validateFlow({ ...booking('x'), dispositions: ['bad value'] }).ok).toBe(false);
  });
});

describe('outcome rules for every other ending', () => {
  const unconnected = (status: string, endReason: string | null = status): OutcomeRow => ({ status, answeredAt: null, streamId: null, endReason, amdResult: null });
  const cases: Array<[string, OutcomeRow, Partial<OutcomeFacts>, string, string | null]> = [
    ['busy', unconnected('busy'), {}, 'failed', 'busy'],
    ['no answer', unconnected('no-answer'), {}, 'failed', 'no-answer'],
    ['canceled', unconnected('canceled'), {}, 'failed', 'canceled'],
    ['carrier failed', unconnected('failed', 'carrier_rejected'), {}, 'failed', 'carrier-failed'],
    ['refused at capacity', unconnected('failed', 'rejected_at_capacity'), {}, 'failed', 'rejected-at-capacity'],
    ['voicemail left', connected, { voicemailLeft: true, amdResult: 'machine' }, 'voicemail-dropped', null],
    ['transferred', connected, { transferred: true, flowEnded: { outcome: 'transferred', reason: 'x', success: null, disposition: null, dispositions: [] } }, 'transferred', null],
    ['transfer failed', connected, { transferFailed: true, flowEnded: { outcome: 'hangup', reason: 'x', success: null, disposition: null, dispositions: [] } }, 'failed', 'transfer-failed'],
    ['machine', connected, { amdResult: 'machine', flowEnded: { outcome: 'hangup', reason: 'flow:bye', success: null, disposition: null, dispositions: [] } }, 'failed', 'machine'],
    ['voicemail not left', connected, { amdResult: 'machine', greetingEnded: true, flowEnded: { outcome: 'hangup', reason: 'flow:bye', success: null, disposition: null, dispositions: [] } }, 'failed', 'voicemail'],
    ['fax', connected, { amdResult: 'fax', flowEnded: { outcome: 'hangup', reason: 'flow:bye', success: null, disposition: null, dispositions: [] } }, 'failed', 'fax'],
    ['provider error', connected, { providerFailed: true, flowErrorCodes: ['GW_ERR_FLOW_AGENT_FAILED'], flowEnded: { outcome: 'failed', reason: 'x', success: null, disposition: null, dispositions: [] } }, 'failed', 'provider-error'],
    ['media timeout', { ...connected, endReason: 'media_timeout' }, { flowEnded: { outcome: 'aborted', reason: 'call_ended', success: null, disposition: null, dispositions: [] } }, 'failed', 'media-timeout'],
    ['shutdown', { ...connected, endReason: 'shutdown' }, { flowEnded: { outcome: 'aborted', reason: 'call_ended', success: null, disposition: null, dispositions: [] } }, 'failed', 'shutdown'],
    ['success even though the caller hung up', { ...connected, endReason: 'stream_stopped' }, { flowEnded: { outcome: 'aborted', reason: 'call_ended', success: true, disposition: 'callback', dispositions: [] } }, 'success', null],
  ];
  it.each(cases)('%s', (_name, row, facts, category, reason) => {
    const o = deriveOutcome(row, { ...emptyFacts(), ...facts });
    expect(o.category).toBe(category);
    expect(o.failureReason).toBe(reason);
    expect(CALL_OUTCOME_CATEGORIES).toContain(o.category);
    if (o.failureReason !== null) expect(FAILURE_REASONS).toContain(o.failureReason);
  });
});

describe('transcript', () => {
  it('interleaves caller finals and heard agent sentences by media time, cut at barge-in', () => {
    const events: CallEvent[] = [
      { type: 'turn.completed', atMs: 2600, data: { turn: 0, heardMs: 2600, audioMs: 2600, text: 'Hello, how can I help?' } },
      { type: 'speech.started', atMs: 3000 },
      { type: 'turn.transcript', atMs: 4200, data: { turn: 1, text: 'Book me in please', source: 'stt' } },
      { type: 'turn.interrupted', atMs: 6000, data: { turn: 1, reason: 'barge_in', heardMs: 900, audioMs: 2400, heardText: 'Sure, which…' } },
      { type: 'speech.started', atMs: 5400 },
      { type: 'turn.transcript', atMs: 6500, data: { turn: 2, text: 'Tuesday', source: 'stt' } },
      { type: 'turn.transcript', atMs: 7000, data: { turn: 3, text: '', source: 'stt' } },
    ];
    const t = buildTranscript(events);
    expect(t.map((x) => [x.speaker, x.text, x.startMs, x.interrupted])).toEqual([
      ['gateway', 'Hello, how can I help?', 0, false],
      ['caller', 'Book me in please', 3000, false],
      ['gateway', 'Sure, which…', 5100, true],
      ['caller', 'Tuesday', 5400, false],
    ]);
  });
});
