// The shipped example flows, resolved the way the gateway does (flow program → resolver → runner),
// driven on the test call: the path taken, the prompts said and the transfers made.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentRunner } from '../../src/agent/node.ts';
import { attachDetectors, defaultDetectorOptions } from '../../src/call/detectors.ts';
import type { FlowDeps } from '../../src/flow/context.ts';
import { createFlowStarter } from '../../src/flow/flowStarter.ts';
import { createFlowResolver } from '../../src/flow/resolve.ts';
import { runFlow, type FlowResult } from '../../src/flow/interpreter.ts';
import type { Department, FlowDefinition } from '../../src/flow/types.ts';
import { createTestCall } from '../helpers/testCall.ts';
import { entered, RecordingCarrier, ScriptedStt, ScriptedTts } from './helpers.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures');
const MONDAY_10AM_NY = new Date('2026-11-23T15:00:00Z');
const depts: Department[] = [
  { name: 'sales', numbers: ['+14155550111'], timeZone: 'America/New_York', hours: { mon: ['09:00-17:00'] } },
  { name: 'support', numbers: ['+14155550122'], timeZone: 'America/New_York', hours: { mon: ['09:00-17:00'] } },
  { name: 'billing', numbers: ['+14155550133'], timeZone: 'America/New_York' },
];

function setup(flowId: string, deps: FlowDeps, variables?: Record<string, unknown>) {
  const carrier = new RecordingCarrier();
  const tc = createTestCall({ carrierActions: carrier, direction: variables === undefined ? 'inbound' : 'outbound' });
  const logs: object[] = [];
  const program = createFlowStarter({
    resolver: createFlowResolver({}),
    deps: { departments: { get: async (n) => depts.find((d) => d.name === n) }, now: () => MONDAY_10AM_NY, ...deps },
    variables: async () => variables,
    log: { info: (o) => logs.push(o), error: (o) => logs.push(o) },
  });
  program.start(tc.session, { callId: tc.session.callId, to: tc.session.to, direction: tc.session.direction, flowId });
  const path = (): string[] => tc.events.filter((e) => e.type === 'flow.node.entered').map((e) => String((e as { data?: { node?: string } }).data?.node));
  const until = async (pred: () => boolean, maxMs = 60_000): Promise<void> => {
    for (let t = 0; t < maxMs && !pred(); t += 20) await tc.feedSilence(20);
    if (!pred()) throw new Error('condition never met');
  };
  const finish = async (): Promise<void> => {
    await until(() => tc.session.ended, 120_000);
    await program.settle();
  };
  return { tc, carrier, program, path, until, finish, logs };
}

describe('shipped flows', () => {
  it('default: greets and hangs up when nothing routes the call', async () => {
    const tts = new ScriptedTts();
    const s = setup('', { tts });
    await s.finish();
    expect(s.tc.events.find((e) => e.type === 'flow.resolved')).toMatchObject({ data: { flowId: 'default', version: null, source: 'default' } });
    expect(s.path()).toEqual(['greet', 'bye']);
    expect(tts.said).toHaveLength(1);
    expect(s.carrier.hangups).toBe(1);
    expect(s.program.running).toBe(0);
  });

  it('ivr-menu: key 2 transfers to support during business hours', async () => {
    const tts = new ScriptedTts();
    const s = setup('ivr-menu', { tts });
    await s.until(() => s.tc.events.some(entered('menu')));
    s.tc.dtmf('2');
    await s.finish();
    expect(s.path()).toEqual(['welcome', 'menu', 'route', 'support']);
    expect(tts.said).toEqual([
      'Thank you for calling Acme.',
      'For sales, press 1 or say sales. For support, press 2 or say support. For our opening hours, press 3.',
      'Connecting you to support.',
    ]);
    // The key press cut the menu prompt short.
    expect(s.tc.eventsOfType('playout.finished').find((e) => e.label === 'gather:menu:1')?.interrupted).toBe(true);
    expect(s.carrier.transfers.map((t) => t.number)).toEqual(['+14155550122']);
  });

  it('ivr-menu: a spoken "sales" transfers to sales; an invalid key is re-asked', async () => {
    const tts = new ScriptedTts();
    const stt = new ScriptedStt();
    stt.script.push(null, { afterMs: 800, text: 'Sales, please.' });
    const s = setup('ivr-menu', { tts, stt });
    await s.until(() => s.tc.events.some(entered('menu')));
    await s.until(() => s.tc.eventsOfType('playout.started').length >= 2);
    s.tc.dtmf('9');
    await s.finish();
    expect(s.path()).toEqual(['welcome', 'menu', 'route', 'sales']);
    expect(tts.said).toContain('That is not one of the options.');
    expect(s.carrier.transfers.map((t) => t.number)).toEqual(['+14155550111']);
  });

  it('outbound-reminder: a human confirms with 1', async () => {
    const tts = new ScriptedTts();
    const s = setup('outbound-reminder', { tts }, { contact: { firstName: 'Jane', appointment: 'on Tuesday at 3 pm' } });
    await s.tc.feedSilence(1000);
    s.tc.session.emit({ type: 'amd.verdict', atMs: s.tc.session.mediaMs(), result: 'human', answeredBy: 'human', confidence: 0.95, reason: 'short_greeting' });
    await s.until(() => s.tc.events.some(entered('confirm')));
    await s.until(() => s.tc.eventsOfType('playout.started').length >= 2);
    s.tc.dtmf('1');
    await s.finish();
    expect(s.path()).toEqual(['detect', 'greet', 'confirm', 'route', 'confirmed', 'thanks', 'bye']);
    expect(tts.said[0]).toBe('Hello Jane, this is Acme Dental calling to remind you of your appointment on Tuesday at 3 pm.');
  });

  it('outbound-reminder: a machine gets the voicemail after the beep', async () => {
    const tts = new ScriptedTts();
    const s = setup('outbound-reminder', { tts }, { contact: { firstName: 'Jane' } });
    s.tc.session.emit({ type: 'speech.started', atMs: 0 });
    await s.tc.feedSilence(2500);
    s.tc.session.emit({ type: 'amd.verdict', atMs: s.tc.session.mediaMs(), result: 'machine', answeredBy: 'machine_start', confidence: 0.9, reason: 'long_greeting' });
    await s.tc.feedSilence(3000);
    s.tc.session.emit({ type: 'beep', atMs: s.tc.session.mediaMs(), frequencyHz: 1000, durationMs: 400 });
    await s.finish();
    expect(s.path()).toEqual(['detect', 'leave_voicemail']);
    expect(tts.said).toEqual(['Hello Jane, this is Acme Dental with a reminder of your appointment with us. To reschedule, call us at 415 555 0100. Goodbye.']);
    expect(s.tc.session.endReason).toBe('voicemail_left');
  });

  it('support-agent: the agent hands billing questions to the billing department', async () => {
    const tts = new ScriptedTts();
    const agent: AgentRunner = async (call) => {
      await call.sleep(2000);
      return { exit: 'transfer', reason: 'tool:transfer', variables: {}, transferTo: 'billing' };
    };
    const s = setup('support-agent', { tts, agent });
    await s.finish();
    expect(s.path()).toEqual(['welcome', 'assistant', 'transfer_department']);
    expect(s.carrier.transfers.map((t) => t.number)).toEqual(['+14155550133']);
  });

  it('support-agent: without an agent, the caller goes to the support team', async () => {
    const s = setup('support-agent', { tts: new ScriptedTts() });
    await s.finish();
    expect(s.path()).toEqual(['welcome', 'assistant', 'to_team']);
    expect(s.carrier.transfers.map((t) => t.number)).toEqual(['+14155550122']);
  });

  it('an unknown explicit flow id ends the call instead of leaving it silent', async () => {
    const s = setup('no-such-flow', { tts: new ScriptedTts() });
    await s.finish();
    expect(s.tc.session.endReason).toBe('flow_unavailable');
    expect(s.tc.events.find((e) => e.type === 'flow.error')).toMatchObject({ data: { code: 'GW_ERR_FLOW_NOT_FOUND' } });
  });
});

describe('outbound-reminder with the real detectors on recorded audio', () => {
  const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'amd/manifest.json'), 'utf8')) as { files: Array<{ file: string; beepEndMs: number | null }> };
  const flow = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../flows/outbound-reminder.json'), 'utf8')) as FlowDefinition;

  async function call(file: string) {
    const carrier = new RecordingCarrier();
    const tc = createTestCall({ carrierActions: carrier, direction: 'outbound' });
    attachDetectors(tc.session, defaultDetectorOptions('outbound'));
    let result: FlowResult | undefined;
    const run = runFlow(tc.session, flow, { deps: { tts: new ScriptedTts() }, variables: { contact: { firstName: 'Jane' } } }).then((r) => (result = r));
    await tc.feedWav(path.join(FIXTURES, file));
    for (let t = 0; t < 60_000 && result === undefined && !tc.session.ended; t += 20) await tc.feedSilence(20);
    await run;
    const path_ = tc.events.filter((e) => e.type === 'flow.node.entered').map((e) => String((e as { data?: { node?: string } }).data?.node));
    return { tc, path: path_ };
  }

  it.each(['amd/machine_beep1004hz_110ms_es-co_late_-12dB_floorwhite-64.wav', 'amd/machine_beep1000hz_410ms_en-wztutor_long_-18dB_snr12pink.wav'])(
    'leaves the voicemail after the beep of %s',
    async (file) => {
      const { tc, path: taken } = await call(file);
      expect(taken).toEqual(['detect', 'leave_voicemail']);
      const beepEndMs = manifest.files.find((f) => f.file === file)?.beepEndMs as number;
      const message = tc.eventsOfType('playout.started').find((e) => e.label === 'voicemail:leave_voicemail');
      // Started after the beep had ended, within a frame or two of the detector's report.
      expect(message?.atMs).toBeGreaterThanOrEqual(beepEndMs);
      expect(message?.atMs).toBeLessThan(beepEndMs + 200);
      expect(tc.session.endReason).toBe('voicemail_left');
    },
  );

  it('greets a person', async () => {
    const { path: taken } = await call('amd/human_no_fr-june_-8dB_snr12pink.wav');
    expect(taken.slice(0, 3)).toEqual(['detect', 'greet', 'confirm']);
  });
});
