// amd and voicemail nodes routed by the detector events a call emits (amd.verdict, amd.message_end,
// beep, speech.started/stopped), all timed on the media clock.
import { describe, expect, it } from 'vitest';
import type { AmdResult, AnsweredBy } from '../../src/call/events.ts';
import { BEEP_GRACE_MS } from '../../src/flow/nodes/detect.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { entered, ScriptedTts, startFlow, type FlowHarness } from './helpers.ts';

const outbound: FlowDefinition = {
  id: 'reminder',
  start: 'detect',
  nodes: {
    detect: { type: 'amd', timeoutMs: 5000, human: 'greet', machine: 'vm', fax: 'fax' },
    greet: { type: 'say', text: 'Hello {{amd.result}}.', next: 'bye' },
    vm: { type: 'voicemail', text: 'Please call us back.', silenceMs: 1500, maxWaitMs: 20_000 },
    fax: { type: 'hangup', reason: 'fax' },
    bye: { type: 'hangup' },
  },
};

const verdict = (h: FlowHarness, result: AmdResult, answeredBy: AnsweredBy): void =>
  h.tc.session.emit({ type: 'amd.verdict', atMs: h.tc.session.mediaMs(), result, answeredBy, confidence: 0.9, reason: 'test' });

describe('amd node', () => {
  it('routes a human verdict to the greeting', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(outbound, { deps: { tts }, direction: 'outbound' });
    await h.advance(2000);
    verdict(h, 'human', 'human');
    const result = await h.finish();
    expect(h.path()).toEqual(['detect', 'greet', 'bye']);
    expect(tts.said).toEqual(['Hello human.']);
    expect(result.outcome).toBe('hangup');
  });

  it('uses a verdict that arrived before the node ran', async () => {
    const flow: FlowDefinition = { ...outbound, start: 'wait', nodes: { ...outbound.nodes, wait: { type: 'say', text: 'One moment.', next: 'detect' } } };
    const tts = new ScriptedTts();
    const h = startFlow(flow, { deps: { tts } });
    await h.until((e) => e.type === 'playout.started');
    verdict(h, 'fax', 'fax');
    const result = await h.finish();
    expect(h.path()).toEqual(['wait', 'detect', 'fax']);
    expect(result.reason).toBe('fax');
  });

  it('takes unknown (default: the human exit) when no verdict comes within the timeout', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(outbound, { deps: { tts } });
    await h.until(entered('greet'));
    const exited = h.flowEvents().find((e) => e.type === 'flow.node.exited');
    expect(exited?.data).toMatchObject({ node: 'detect', exit: 'human', next: 'greet' });
    const at = (h.tc.events.find(entered('greet')) as { atMs: number }).atMs;
    expect(at).toBeGreaterThanOrEqual(5000);
    expect(at).toBeLessThan(5100);
    await h.finish();
    expect(tts.said).toEqual(['Hello unknown.']);
  });
});

describe('voicemail node', () => {
  it('waits for the beep after the greeting, then leaves the message and hangs up', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(outbound, { deps: { tts }, direction: 'outbound' });
    h.tc.session.emit({ type: 'speech.started', atMs: 0 });
    await h.advance(1200);
    verdict(h, 'machine', 'machine_start');
    await h.until(entered('vm'));
    // Greeting continues with pauses shorter than silenceMs, then the beep.
    await h.advance(1800);
    h.tc.session.emit({ type: 'speech.stopped', atMs: h.tc.session.mediaMs(), durationMs: 3000 });
    await h.advance(600);
    h.tc.session.emit({ type: 'speech.started', atMs: h.tc.session.mediaMs() });
    await h.advance(1000);
    h.tc.session.emit({ type: 'speech.stopped', atMs: h.tc.session.mediaMs(), durationMs: 1000 });
    await h.advance(400);
    const beepAt = h.tc.session.mediaMs();
    h.tc.session.emit({ type: 'beep', atMs: beepAt, frequencyHz: 1000, durationMs: 300 });
    const result = await h.finish();
    expect(result.outcome).toBe('voicemail');
    expect(result.reason).toBe('voicemail_left:beep');
    expect(h.flowEvents().find((e) => e.type === 'flow.voicemail.greeting_ended')?.data).toMatchObject({ by: 'beep' });
    const started = h.tc.eventsOfType('playout.started')[0];
    expect(started?.label).toBe('voicemail:vm');
    expect(started?.atMs).toBeGreaterThanOrEqual(beepAt);
    expect(started?.atMs).toBeLessThanOrEqual(beepAt + 40);
    // The whole message was heard before hanging up.
    const finished = h.tc.eventsOfType('playout.finished')[0];
    expect(finished?.heardMs).toBe(finished?.audioMs);
    expect(h.carrier.hangups).toBe(1);
    expect(tts.said).toEqual(['Please call us back.']);
  });

  it('goes on the AMD message end if it came first', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(outbound, { deps: { tts } });
    verdict(h, 'machine', 'machine_start');
    await h.until(entered('vm'));
    await h.advance(3000);
    h.tc.session.emit({ type: 'amd.message_end', atMs: h.tc.session.mediaMs(), answeredBy: 'machine_end_silence', reason: 'silence' });
    const result = await h.finish();
    expect(result.reason).toBe('voicemail_left:message_end');
  });

  it('ends the greeting after silenceMs without speech once speech was heard', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(outbound, { deps: { tts } });
    h.tc.session.emit({ type: 'speech.started', atMs: 0 });
    verdict(h, 'machine', 'machine_start');
    await h.until(entered('vm'));
    await h.advance(2000);
    const stoppedAt = h.tc.session.mediaMs();
    h.tc.session.emit({ type: 'speech.stopped', atMs: stoppedAt, durationMs: 2000 });
    const result = await h.finish();
    expect(result.reason).toBe('voicemail_left:silence');
    // silenceMs, then the grace for a late beep.
    const ended = h.tc.events.find((e) => e.type === 'flow.voicemail.greeting_ended') as { atMs: number };
    expect(ended.atMs - stoppedAt).toBeGreaterThanOrEqual(1500 + BEEP_GRACE_MS);
    expect(ended.atMs - stoppedAt).toBeLessThan(1500 + BEEP_GRACE_MS + 60);
  });

  it('after a silence or message end that was not a beep, still waits briefly for a late beep', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(outbound, { deps: { tts } });
    verdict(h, 'machine', 'machine_start');
    await h.until(entered('vm'));
    await h.advance(1000);
    h.tc.session.emit({ type: 'amd.message_end', atMs: h.tc.session.mediaMs(), answeredBy: 'machine_end_silence', reason: 'silence' });
    await h.advance(300);
    const beepAt = h.tc.session.mediaMs();
    h.tc.session.emit({ type: 'beep', atMs: beepAt, frequencyHz: 1000, durationMs: 500 });
    const result = await h.finish();
    expect(result.reason).toBe('voicemail_left:message_end+beep');
    const ended = h.tc.events.find((e) => e.type === 'flow.voicemail.greeting_ended') as { atMs: number };
    expect(ended.atMs - beepAt).toBeLessThanOrEqual(20);
  });

  it('leaves the message after maxWaitMs when the greeting never ends', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(outbound, { deps: { tts } });
    h.tc.session.emit({ type: 'speech.started', atMs: 0 });
    verdict(h, 'machine', 'machine_start');
    await h.until(entered('vm'));
    const enteredAt = h.tc.session.mediaMs();
    const result = await h.finish();
    expect(result.reason).toBe('voicemail_left:max_wait');
    const ended = h.tc.events.find((e) => e.type === 'flow.voicemail.greeting_ended') as { atMs: number };
    expect(ended.atMs - enteredAt).toBeGreaterThanOrEqual(20_000);
    expect(ended.atMs - enteredAt).toBeLessThan(20_060);
  });
});

describe('amd node confidence threshold', () => {
  const careful: FlowDefinition = {
    id: 'careful',
    start: 'detect',
    nodes: {
      detect: { type: 'amd', timeoutMs: 5000, minConfidence: 0.9, human: 'greet', machine: 'drop', uncertain: 'vm' },
      greet: { type: 'say', text: 'Hello.', next: 'bye' },
      drop: { type: 'hangup', reason: 'machine' },
      vm: { type: 'voicemail', text: 'Please call us back.', silenceMs: 1500, maxWaitMs: 3000 },
      bye: { type: 'hangup' },
    },
  };
  const say = (h: FlowHarness, result: AmdResult, confidence: number): void =>
    h.tc.session.emit({ type: 'amd.verdict', atMs: h.tc.session.mediaMs(), result, answeredBy: result === 'machine' ? 'machine_start' : 'human', confidence, reason: 'test' });

  it('hangs up on a machine only at or above minConfidence', async () => {
    const h = startFlow(careful, { deps: { tts: new ScriptedTts() }, direction: 'outbound' });
    await h.advance(2000);
    say(h, 'machine', 0.95);
    const result = await h.finish();
    expect(h.path()).toEqual(['detect', 'drop']);
    expect(result.reason).toBe('machine');
  });

  it('a less sure machine verdict takes the uncertain exit (leave a message instead)', async () => {
    const h = startFlow(careful, { deps: { tts: new ScriptedTts() }, direction: 'outbound' });
    await h.advance(2000);
    say(h, 'machine', 0.75);
    await h.finish();
    expect(h.path()).toEqual(['detect', 'vm']);
    const exited = h.flowEvents().find((e) => e.type === 'flow.node.exited');
    expect(exited?.data).toMatchObject({ node: 'detect', exit: 'uncertain' });
  });

  it('without an uncertain exit a less sure verdict goes to the human exit', async () => {
    const flow: FlowDefinition = { ...careful, nodes: { ...careful.nodes, detect: { type: 'amd', minConfidence: 0.9, human: 'greet', machine: 'drop' } } };
    const h = startFlow(flow, { deps: { tts: new ScriptedTts() }, direction: 'outbound' });
    await h.advance(2000);
    say(h, 'machine', 0.8);
    await h.finish();
    expect(h.path()).toEqual(['detect', 'greet', 'bye']);
  });
});

describe('revised verdicts', () => {
  // The documented pattern: greet, then check the verdict as it stands before going on.
  const recheck: FlowDefinition = {
    id: 'recheck',
    start: 'detect',
    nodes: {
      detect: { type: 'amd', timeoutMs: 5000, human: 'greet', machine: 'vm' },
      greet: { type: 'say', text: 'Hi, this is the clinic.', next: 'again' },
      again: { type: 'amd', human: 'talk', machine: 'vm' },
      talk: { type: 'say', text: 'Your appointment is tomorrow.', next: 'bye' },
      vm: { type: 'voicemail', text: 'Please call us back.', silenceMs: 1500, maxWaitMs: 20_000 },
      bye: { type: 'hangup' },
    },
  };

  it('a human verdict revised to machine by a late beep takes the voicemail branch at once', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(recheck, { deps: { tts }, direction: 'outbound' });
    await h.advance(2000);
    verdict(h, 'human', 'human');
    await h.until((e) => e.type === 'playout.started');
    const at = h.tc.session.mediaMs();
    h.tc.session.emit({ type: 'beep', atMs: at, frequencyHz: 1000, durationMs: 250 });
    h.tc.session.emit({ type: 'amd.revised', atMs: at, result: 'machine', answeredBy: 'machine_end_beep', confidence: 0.95, reason: 'beep at 1000 Hz after the human verdict', previous: 'human' });
    h.tc.session.emit({ type: 'amd.message_end', atMs: at, answeredBy: 'machine_end_beep', reason: 'beep' });
    const result = await h.finish();
    expect(h.path()).toEqual(['detect', 'greet', 'again', 'vm']);
    expect(tts.said).toEqual(['Hi, this is the clinic.', 'Please call us back.']);
    expect(result.reason).toBe('voicemail_left:beep');
    const ended = h.flowEvents().find((e) => e.type === 'flow.voicemail.greeting_ended');
    expect(ended?.data).toMatchObject({ by: 'beep' });
  });

  it('without a revision the same flow carries on with the person', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(recheck, { deps: { tts }, direction: 'outbound' });
    await h.advance(2000);
    verdict(h, 'human', 'human');
    await h.finish();
    expect(h.path()).toEqual(['detect', 'greet', 'again', 'talk', 'bye']);
  });
});
