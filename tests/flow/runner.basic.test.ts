import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OfflineTts } from '../../src/agent/tts/offline.ts';
import { AudioFolder } from '../../src/flow/audio.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { ScriptedTts, startFlow } from './helpers.ts';

const hello: FlowDefinition = {
  id: 'hello',
  start: 'greet',
  variables: { company: 'Acme' },
  nodes: {
    greet: { type: 'say', text: 'Hello {{contact.firstName ?? "there"}}, welcome to {{vars.company}}.', next: 'count' },
    count: { type: 'set', values: { visits: { expr: '(vars.visits ?? 0) + 1' }, label: 'v{{vars.company}}' }, next: 'route' },
    route: { type: 'branch', conditions: [{ when: 'vars.visits >= 1 and vars.label == "vAcme"', next: 'bye' }], default: 'greet' },
    bye: { type: 'hangup', reason: 'done' },
  },
};

describe('runner: say, set, branch, hangup', () => {
  it('says the templated text, sets variables, branches and hangs up, with every step in the timeline', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(hello, { deps: { tts }, variables: { contact: { firstName: 'Jane' } } });
    const result = await h.finish();
    expect(result.outcome).toBe('hangup');
    expect(result.reason).toBe('done');
    expect(result.variables).toMatchObject({ company: 'Acme', visits: 1, label: 'vAcme' });
    expect(tts.said).toEqual(['Hello Jane, welcome to Acme.']);
    expect(h.path()).toEqual(['greet', 'count', 'route', 'bye']);
    expect(h.carrier.hangups).toBe(1);
    const types = h.flowEvents().map((e) => e.type);
    expect(types[0]).toBe('flow.started');
    expect(types.at(-1)).toBe('flow.ended');
    expect(h.flowEvents().filter((e) => e.type === 'flow.variable.set').map((e) => e.data?.name)).toEqual(['vars.visits', 'vars.label']);
    expect(h.flowEvents().find((e) => e.type === 'flow.branch')?.data).toMatchObject({ matched: 0 });
    // The prompt was sent to the carrier and heard in full before the next node ran.
    const finished = h.tc.eventsOfType('playout.finished')[0];
    expect(finished).toMatchObject({ label: 'say:greet', interrupted: false });
    expect(finished?.heardMs).toBe(280);
  });
});

describe('runner: audio files and the offline voice', () => {
  const audio = new AudioFolder(path.resolve(import.meta.dirname, '../../fixtures'));
  const files: FlowDefinition = {
    id: 'files',
    start: 'a',
    nodes: {
      a: { type: 'play', audio: 'greeting.wav', next: 'b' },
      b: { type: 'say', audio: '{{nope}}/../../package.json', next: 'c', onError: 'c' },
      c: { type: 'say', audio: 'missing.wav', next: 'z', onError: 'z' },
      z: { type: 'hangup', reason: 'bye {{vars.who ?? "all"}}' },
    },
  };

  it('plays WAV files from the audio folder (8 kHz mu-law), refusing paths outside it and missing files', async () => {
    const h = startFlow(files, { deps: { audio } });
    const result = await h.finish();
    expect(result.reason).toBe('bye all');
    const played = h.tc.eventsOfType('playout.finished');
    expect(played.map((p) => p.label)).toEqual(['play:a']);
    expect(played[0]?.heardMs).toBe(played[0]?.audioMs);
    expect(h.flowEvents().filter((e) => e.type === 'flow.error').map((e) => e.data?.code)).toEqual(['GW_ERR_FLOW_AUDIO_NAME', 'GW_ERR_FLOW_AUDIO_MISSING']);
    expect(h.path()).toEqual(['a', 'b', 'c', 'z']);
  });

  it('says text with the offline eSpeak voice', async () => {
    const tts = new OfflineTts();
    try {
      const flow: FlowDefinition = { id: 'speak', start: 'a', nodes: { a: { type: 'say', text: 'Hello {{contact.firstName}}.', next: 'z' }, z: { type: 'hangup' } } };
      const h = startFlow(flow, { deps: { tts }, variables: { contact: { firstName: 'Jane' } } });
      // The voice synthesizes in wall time (a worker thread): feed media at a pace it can follow.
      for (let i = 0; i < 5000 && h.result() === undefined && !h.tc.session.ended; i++) {
        await h.tc.feedSilence(20);
        await new Promise((r) => setTimeout(r, 2));
      }
      await h.finish();
      const played = h.tc.eventsOfType('playout.finished')[0];
      // "Hello Jane." is roughly half a second to a second of speech at 175 wpm.
      expect(played?.audioMs).toBeGreaterThan(400);
      expect(played?.audioMs).toBeLessThan(3000);
      expect(played?.heardMs).toBe(played?.audioMs);
    } finally {
      await tts.close();
    }
  });
});
