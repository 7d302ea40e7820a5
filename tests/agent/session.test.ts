// The agent on a real CallSession (tests/helpers/testCall.ts: a simulated carrier plays what is sent
// and echoes marks), with the real OpenAI and ElevenLabs SDKs talking to the fake vendor servers.
// Caller speech is a tone plus the detector events for it; transcripts are scripted on the media clock.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentNodeSpec, AgentOutcome } from '../../src/agent/node.ts';
import { createProviders } from '../../src/agent/factory.ts';
import { CircuitBreaker } from '../../src/resilience/policy.ts';
import { AgentSession, type AgentOptions } from '../../src/agent/session.ts';
import { TtsCache } from '../../src/agent/tts/cache.ts';
import { ElevenLabsTts } from '../../src/agent/tts/elevenlabs.ts';
import { ElevenLabsStreamInputTts } from '../../src/agent/tts/elevenlabsStreamInput.ts';
import { FallbackTts } from '../../src/agent/tts/fallback.ts';
import { OpenAiLlm } from '../../src/agent/llm/openai.ts';
import { OpenAiTts } from '../../src/agent/tts/openai.ts';
import { attachDetectors } from '../../src/call/detectors.ts';
import type { CallEvent } from '../../src/call/events.ts';
import { createTestCall, type TestCall } from '../helpers/testCall.ts';
import { fakeUlaw, startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabsServer.ts';
import { startFakeOpenAi, TEST_CA, type FakeOpenAi } from '../fakes/openaiServer.ts';
import { Caller, tone } from './helpers/caller.ts';
import { withBabble } from '../dsp/babble.ts';
import { ScriptedStt } from '../fakes/scriptedStt.ts';

let oai: FakeOpenAi;
let el: FakeElevenLabs;
beforeAll(async () => {
  [oai, el] = await Promise.all([startFakeOpenAi(), startFakeElevenLabs()]);
});
afterAll(async () => {
  await Promise.all([oai.close(), el.close()]);
});
beforeEach(() => {
  oai.chat.length = 0;
  oai.chatRequests.length = 0;
  oai.speech.length = 0;
  oai.speechRequests.length = 0;
  el.stream.length = 0;
  el.streamRequests.length = 0;
});

// Timeouts far above what the fakes take even on a loaded machine: these tests are not about timeouts (a
// vendor timing out here would silently switch to the fallback voice and change what the caller hears).
const policy = { retries: 0, baseDelayMs: 1, maxDelayMs: 1, firstChunkTimeoutMs: 20_000, idleTimeoutMs: 20_000 };

interface Harness {
  call: TestCall;
  caller: Caller;
  stt: ScriptedStt;
  agent: AgentSession;
  cache: TtsCache;
  outcome: Promise<AgentOutcome>;
  done: () => AgentOutcome | undefined;
  ev: <T extends CallEvent['type']>(type: T) => Extract<CallEvent, { type: T }>[];
}

function setup(spec: Partial<AgentNodeSpec> = {}, opts: Partial<AgentOptions> = {}): Harness {
  const call = createTestCall();
  const stt = new ScriptedStt();
  const tts = new FallbackTts([
    new ElevenLabsTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'v', modelId: 'eleven_flash_v2_5', policy, breaker: new CircuitBreaker('elevenlabs', { failureThreshold: 1, cooldownMs: 60_000 }) }),
    new OpenAiTts({ apiKey: oai.apiKey, baseURL: oai.baseURL, model: 'tts', voice: 'alloy', policy }),
  ]);
  const cache = new TtsCache(tts);
  const agent = new AgentSession(
    call.session,
    { instructions: 'You are the Acme phone assistant.', tools: ['transfer', 'end', 'set_variable'], departments: ['billing', 'support'], ...spec },
    { customer: 'Ada' },
    // The caller helper emits exact speech events (no VAD onset or hangover to undo).
    { stt, llm: new OpenAiLlm({ apiKey: oai.apiKey, baseURL: oai.baseURL, model: 'gpt-test', policy }), tts, ttsCache: cache, vadOnsetMs: 0, vadHangoverMs: 0, ...opts },
    new AbortController().signal,
  );
  let result: AgentOutcome | undefined;
  const outcome = agent.run().then((o) => (result = o));
  const ev = <T extends CallEvent['type']>(type: T) => call.events.filter((e): e is Extract<CallEvent, { type: T }> => e.type === type);
  return { call, caller: new Caller(call, stt), stt, agent, cache, outcome, done: () => result, ev };
}

const lastUser = (i: number) => oai.chatRequests[i]!.body.messages.filter((m) => m.role === 'user').at(-1)?.content;

describe('agent session on a call', () => {
  it('answers a question sentence by sentence, ends with a tool, and reports latency for the turn', async () => {
    const h = setup();
    oai.chat.push({ text: ['We open ', 'at nine. ', 'We close at five.'] });
    oai.chat.push({ text: ['Goodbye!'], toolCalls: [{ name: 'end', arguments: '{"result":"asked_hours"}' }] });
    await h.caller.silence(200);
    const spoke = await h.caller.say('When do you open?', 1200);
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1);
    // What the caller heard is exactly the two synthesized sentences, in order.
    expect(Buffer.from(h.call.carrier.heard).equals(Buffer.concat([fakeUlaw('We open at nine.'), fakeUlaw('We close at five.')]))).toBe(true);
    // (The other requests are the static prompts the agent prefetches into the cache.)
    expect(el.streamRequests.map((r) => r.body.text).filter((t) => t.startsWith('We '))).toEqual(['We open at nine.', 'We close at five.']);
    expect(lastUser(0)).toBe('When do you open?');
    expect(oai.chatRequests[0]!.body.messages[0]!.content).toContain('You are the Acme phone assistant.');

    const [end] = h.ev('turn.user_speech_end');
    expect(end!.atMs).toBe(spoke.endMs);
    const endpoint = h.ev('turn.endpoint')[0]!.data;
    expect(endpoint.reason).toBe('complete');
    expect(endpoint.waitMs).toBeGreaterThanOrEqual(400);
    expect(endpoint.waitMs).toBeLessThan(460);
    for (const t of ['turn.transcript', 'turn.llm_first_token', 'turn.tts_first_byte', 'turn.first_audio'] as const) expect(h.ev(t), t).toHaveLength(1);
    const first = h.ev('turn.first_audio')[0]!.data;
    expect(first.responseLatencyMs).toBeGreaterThanOrEqual(400);
    expect(typeof first.gatewayOverheadMs).toBe('number');
    expect(h.ev('turn.tts_first_byte')[0]!.data.provider).toBe('elevenlabs');

    await h.caller.say('Great, thanks.', 700);
    await h.caller.silenceUntil(() => h.done() !== undefined);
    expect(h.done()).toEqual({ exit: 'done', reason: 'tool:end', result: 'asked_hours', variables: { customer: 'Ada' } });
    // The goodbye was played in full before the node ended.
    expect(h.call.carrier.heard.length).toBe(h.call.carrier.sentAudioBytes());
  });

  it('starts a cached greeting at once: before the next inbound frame, with no TTS request', async () => {
    // (Its wall-clock start is a benchmark figure — bench/agent.ts — not a timed test.)
    const call = createTestCall();
    const tts = new ElevenLabsTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'v', modelId: 'm', policy });
    const cache = new TtsCache(tts);
    await cache.prefetch(['Thanks for calling Acme.'], new AbortController().signal);
    const spec = { instructions: 'x', tools: [], greeting: 'Thanks for calling Acme.' };
    const greeter = new AgentSession(call.session, spec, {}, { stt: new ScriptedStt(), llm: new OpenAiLlm({ apiKey: oai.apiKey, baseURL: oai.baseURL, model: 'm', policy }), tts, ttsCache: cache }, new AbortController().signal);
    const running = greeter.run();
    await new Promise((r) => setImmediate(r));
    expect(call.session.mediaMs()).toBe(0);
    const media = call.carrier.sent.filter((m) => m.type === 'media');
    expect(media.length).toBeGreaterThan(0);
    expect(Buffer.concat(media.map((m) => (m as { bytes: Uint8Array }).bytes)).equals(fakeUlaw('Thanks for calling Acme.'))).toBe(true);
    expect(el.streamRequests).toHaveLength(1); // the prefetch only
    call.session.end('test done');
    await Promise.race([running, new Promise((r) => setTimeout(r, 200))]);
  });

  it('takes a transfer tool call after saying its last sentence', async () => {
    const h = setup({ greeting: 'Hi, this is Acme.' });
    oai.chat.push({ text: ['Let me put you through to billing.'], toolCalls: [{ name: 'transfer', arguments: '{"department":"billing"}' }] });
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1); // greeting heard
    await h.caller.say('I have a question about my invoice.', 1500);
    await h.caller.silenceUntil(() => h.done() !== undefined);
    expect(h.done()).toMatchObject({ exit: 'transfer', transferTo: 'billing', reason: 'tool:transfer' });
    expect(h.ev('agent.tool')[0]!.data).toMatchObject({ name: 'transfer', decision: 'terminal' });
    expect(h.call.carrier.heard.length).toBe(h.call.carrier.sentAudioBytes());
    const msgs = oai.chatRequests[0]!.body.messages;
    expect(msgs.map((m) => m.role)).toEqual(['system', 'assistant', 'user']);
    expect(msgs[1]!.content).toBe('Hi, this is Acme.');
  });

  it('barge-in: clears playback at once, cancels the turn and cuts the history to what was heard', async () => {
    const h = setup();
    const full = ['Our plans are basic, plus and premium.', 'Basic costs ten dollars a month with calls.', 'Plus costs twenty dollars and adds texts.'];
    oai.chat.push({ text: full.map((s) => `${s} `) });
    oai.chat.push({ text: ['Sure, billing it is.'] });
    await h.caller.say('What plans do you have?', 1000);
    await h.caller.silenceUntil(() => h.ev('turn.first_audio').length === 1);
    await h.caller.silenceUntil(() => h.call.carrier.heard.length >= 1500 * 8, 20_000, 1);
    const sentBefore = h.call.carrier.sentAudioBytes();
    const barge = await h.caller.say('Actually, I need billing.', 1000);
    await h.caller.silenceUntil(() => oai.chatRequests.length === 2);

    expect(h.call.carrier.sent.filter((m) => m.type === 'clear')).toHaveLength(1);
    const b = h.ev('turn.barge_in')[0]!.data;
    expect(b.speechStartMs).toBe(barge.startMs);
    expect(b.latencyMs).toBeLessThanOrEqual(150);
    expect(h.call.carrier.clearsAtMs[0]! - barge.startMs).toBeLessThanOrEqual(150);
    // About 1.6 s of a 1.9 s first sentence was heard; the rest of the answer never went out again.
    const heard = h.call.carrier.heard.length / 8;
    expect(heard).toBeGreaterThan(1400);
    expect(heard).toBeLessThan(1900);
    expect(h.call.carrier.sentAudioBytes()).toBeLessThanOrEqual(sentBefore + 8 * 200);
    const interrupted = h.ev('turn.interrupted')[0]!.data;
    // Marks confirm playback per outbound chunk, so the marks' figure trails the bytes by under a chunk.
    expect(Math.abs((interrupted.heardMs) - heard)).toBeLessThanOrEqual(40);

    const msgs = oai.chatRequests[1]!.body.messages;
    const assistant = msgs.filter((m) => m.role === 'assistant').at(-1)!.content!;
    expect(assistant.endsWith('…')).toBe(true);
    expect(full[0]!.startsWith(assistant.slice(0, -1))).toBe(true);
    expect(assistant.length).toBeLessThan(full[0]!.length);
    expect(lastUser(1)).toBe('Actually, I need billing.');
  });

  it('a backchannel or a cough does not interrupt; a false interruption resumes the sentence', async () => {
    const h = setup();
    const answer = ['You can pay online or by phone.', 'Online is the fastest way.'];
    oai.chat.push({ text: answer.map((s) => `${s} `) });
    await h.caller.say('How can I pay?', 900);
    await h.caller.silenceUntil(() => h.ev('turn.first_audio').length === 1);
    await h.caller.silence(400);
    await h.caller.say(undefined, 60); // a cough: shorter than the barge-in minimum
    expect(h.call.carrier.sent.some((m) => m.type === 'clear')).toBe(false);
    await h.caller.silence(300);
    await h.caller.say('mm-hm', 300);
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1);
    expect(h.ev('turn.resumed')).toHaveLength(1);
    expect(h.ev('turn.interrupted')).toHaveLength(0);
    expect(oai.chatRequests).toHaveLength(1); // "mm-hm" was not a turn
    const assistant = h.agent.messages().filter((m) => m.role === 'assistant').at(-1)!;
    expect(assistant.content).toBe(answer.join(' '));
    // The first sentence was replayed from its start after the pause, so the whole answer was heard.
    const heard = Buffer.from(h.call.carrier.heard);
    expect(heard.subarray(heard.length - fakeUlaw(answer[1]!).length).equals(fakeUlaw(answer[1]!))).toBe(true);
  });

  it('falls back to OpenAI speech when ElevenLabs fails, and says so on the timeline', async () => {
    const h = setup();
    await h.caller.silenceUntil(() => h.cache.size === 3); // static prompts prefetched
    el.stream.push({ fault: 'http500' });
    oai.chat.push({ text: ['Your balance is ten dollars.'] });
    await h.caller.say('What is my balance?', 900);
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1);
    expect(h.ev('agent.tts_fallback')[0]!.data).toMatchObject({ from: 'elevenlabs', to: 'openai-tts', code: 'GW_ERR_PROVIDER_FAILED' });
    expect(oai.speechRequests.map((r) => r.input)).toEqual(['Your balance is ten dollars.']);
    expect(h.ev('turn.tts_first_byte')[0]!.data.provider).toBe('openai-tts');
    // 28 chars × 50 ms of speech reached the caller, resampled from 24 kHz.
    expect(Math.abs(h.call.carrier.heard.length - 28 * 50 * 8)).toBeLessThan(16);
  });

  it('DTMF reaches the model as input and interrupts playback', async () => {
    const h = setup({ greeting: 'Press 1 for billing or 2 for support, then pound.' });
    oai.chat.push({ text: ['Billing, got it.'] });
    await h.caller.silenceUntil(() => h.ev('turn.first_audio').length === 0 && h.call.carrier.heard.length > 800);
    h.call.dtmf('1');
    h.call.dtmf('#');
    await h.caller.silenceUntil(() => oai.chatRequests.length === 1);
    expect(lastUser(0)).toBe('DTMF: 1#');
    expect(h.call.carrier.sent.some((m) => m.type === 'clear')).toBe(true);
  });

  it('reprompts on silence and gives up after the configured reprompts (never dead air)', async () => {
    const h = setup({ noInputMs: 1000 }, { maxReprompts: 1 });
    await h.caller.silenceUntil(() => h.done() !== undefined, 10_000);
    expect(h.ev('agent.reprompt')).toHaveLength(1);
    expect(h.done()).toMatchObject({ exit: 'limit', reason: 'no_input' });
    expect(h.call.carrier.heard.length).toBe(fakeUlaw('Are you still there?').length);
  });

  it('an LLM outage is apologised for, then ends the node with an error', async () => {
    const h = setup();
    oai.chat.push({ fault: 'http500' }, { fault: 'http500' });
    await h.caller.say('Hello?', 600);
    await h.caller.silenceUntil(() => h.ev('agent.provider_failed').length === 1);
    // The failed turn completes (nothing heard), then the apology plays.
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 2);
    expect(Buffer.from(h.call.carrier.heard).equals(fakeUlaw("Sorry, I'm having trouble right now. Could you say that again?"))).toBe(true);
    await h.caller.say('Hello??', 600);
    await h.caller.silenceUntil(() => h.done() !== undefined);
    expect(h.done()).toMatchObject({ exit: 'error', reason: 'provider_failed' });
  });

  it('waits longer after a trailing "and…", so a mid-thought pause does not cut the caller off', async () => {
    const h = setup();
    oai.chat.push({ text: ['Let me look at that invoice.'] });
    await h.caller.say('I want to check my balance and', 1200);
    await h.caller.silence(1000); // longer than the complete-sentence wait, shorter than the incomplete one
    expect(oai.chatRequests).toHaveLength(0);
    await h.caller.say('my last invoice.', 900);
    await h.caller.silenceUntil(() => oai.chatRequests.length === 1);
    expect(lastUser(0)).toBe('I want to check my balance and my last invoice.');
    expect(h.ev('turn.endpoint')[0]!.data).toMatchObject({ reason: 'complete' });
    expect(h.ev('turn.endpoint')).toHaveLength(1);
  });

  it('runs non-terminal tools (set_variable) and lets the model continue; stops at the turn limit', async () => {
    const h = setup({ maxTurns: 1 });
    oai.chat.push({ toolCalls: [{ name: 'set_variable', arguments: '{"name":"account","value":"A-42"}' }] });
    oai.chat.push({ text: ['Thanks, I have noted account A-42.'] });
    await h.caller.say('My account is A-42.', 1000);
    await h.caller.silenceUntil(() => h.done() !== undefined);
    expect(h.done()).toEqual({ exit: 'limit', reason: 'max_turns', variables: { customer: 'Ada', account: 'A-42' } });
    const second = oai.chatRequests[1]!.body.messages;
    expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'set_variable' } }] });
    expect(second.at(-1)).toMatchObject({ role: 'tool', content: 'ok' });
    expect(Buffer.from(h.call.carrier.heard).equals(fakeUlaw('Thanks, I have noted account A-42.'))).toBe(true);
  });

  it("with the call's own VAD: endpointing dates the caller's real speech end, and barge-in clears ≤ 150 ms after speech onset", async () => {
    const h = setup({}, { vadOnsetMs: 60, vadHangoverMs: 240 });
    attachDetectors(h.call.session, { amd: false, dtmfInband: false, beep: false, fax: false, vad: true });
    oai.chat.push({ text: ['Our opening hours are nine to five on weekdays. ', 'On Saturdays we open at ten.'] });
    oai.chat.push({ text: ['Sundays we are closed.'] });
    await h.caller.silence(1000);
    const start = h.caller.now();
    h.stt.at(start + 1200 + 100, { type: 'final', text: 'When are you open?' });
    await h.call.feed(tone(1200));
    const end = h.caller.now();
    await h.caller.silenceUntil(() => h.ev('turn.first_audio').length === 1);
    expect(Math.abs(h.ev('turn.user_speech_end')[0]!.atMs - end)).toBeLessThanOrEqual(40);
    expect(h.ev('turn.first_audio')[0]!.data.responseLatencyMs).toBeLessThan(520);
    await h.caller.silence(1000);
    const bargeStart = h.caller.now();
    h.stt.at(bargeStart + 900 + 100, { type: 'final', text: 'And on Sundays?' });
    await h.call.feed(tone(900));
    expect(h.call.carrier.clearsAtMs).toHaveLength(1);
    expect(h.call.carrier.clearsAtMs[0]! - bargeStart).toBeLessThanOrEqual(150);
    await h.caller.silenceUntil(() => oai.chatRequests.length === 2);
    expect(lastUser(1)).toBe('And on Sundays?');
  });

  it("with a TV talking behind the caller: the call's VAD still ends the caller's turn, and the agent answers", async () => {
    const h = setup({}, { vadOnsetMs: 60, vadHangoverMs: 240 });
    attachDetectors(h.call.session, { amd: false, dtmfInband: false, beep: false, fax: false, vad: true });
    oai.chat.push({ text: ['We open at nine.'] });
    // 1 s of the room, 1.2 s of the caller's words over it, then the room goes on: six recorded voices
    // whose level is 26 dB under the caller's (from 1 s into the babble: a stretch with no gap in it for
    // the VAD to stop in until 3.6 s after the words).
    const words = new Int16Array(8000 * 9);
    words.set(tone(1200), 8000);
    const line = withBabble(words, '', 26, 8000);
    let at = 0;
    const feed = async (ms: number): Promise<void> => {
      await h.call.feed(line.subarray(at, at + ms * 8));
      at += ms * 8;
    };
    await feed(1000);
    h.stt.at(h.caller.now() + 1200 + 100, { type: 'final', text: 'When are you open?' });
    await feed(1200);
    const end = h.caller.now();
    while (at < line.length && h.ev('turn.first_audio').length === 0) await feed(20);
    // Before the gate (dsp/foreground.ts) the VAD heard the room as the caller going on: the turn ended
    // at the babble's first gap, 3.6 s after the words.
    expect(h.ev('turn.first_audio')).toHaveLength(1);
    expect(h.ev('turn.user_speech_end')[0]!.atMs - end).toBeLessThan(700);
    expect(h.ev('turn.first_audio')[0]!.atMs - end).toBeLessThan(2000);
    expect(lastUser(0)).toBe('When are you open?');
  });

  it('speech that goes on after the turn was committed merges into one turn; the unheard answer is dropped', async () => {
    const h = setup();
    oai.chat.push({ text: ['Hello! How can I help?'], latencyMs: 150 });
    oai.chat.push({ text: ['Sure, billing.'] });
    await h.caller.say('Hi.', 500);
    await h.caller.silenceUntil(() => oai.chatRequests.length === 1); // committed, answer on its way
    await h.caller.say('I need help with billing.', 1200);
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1);
    expect(oai.chatRequests).toHaveLength(2);
    expect(lastUser(1)).toBe('Hi. I need help with billing.');
    expect(oai.chatRequests[1]!.body.messages.filter((m) => m.role === 'user')).toHaveLength(1);
    expect(Buffer.from(h.call.carrier.heard).equals(fakeUlaw('Sure, billing.'))).toBe(true);
    expect(h.ev('turn.stt_final').map((e) => e.data.text)).toEqual(['Hi.', 'I need help with billing.']);
  });

  it('never dead air: a slow answer gets a filler first, and max duration ends the node', async () => {
    const h = setup({ maxDurationMs: 12_000 }, { fillerAfterMs: 300 });
    await h.caller.silenceUntil(() => h.cache.size === 3, 20_000, 1); // static prompts prefetched
    const committed = h.caller.now();
    oai.chat.push({ text: ['Here is your answer.'], latencyMs: 100 });
    await h.caller.say('Tell me something.', 800);
    // Media paced at ~20× real time, so the LLM's 100 ms of wall latency is seconds of caller silence.
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1, 10_000, 1);
    expect(h.ev('turn.first_audio')[0]!.atMs - committed).toBeGreaterThan(1500);
    expect(h.ev('agent.filler')).toHaveLength(1);
    expect(Buffer.from(h.call.carrier.heard).equals(Buffer.concat([fakeUlaw('One moment, please.'), fakeUlaw('Here is your answer.')]))).toBe(true);
    await h.caller.silenceUntil(() => h.done() !== undefined);
    expect(h.done()).toMatchObject({ exit: 'limit', reason: 'max_duration' });
  });

  it('token streaming: LLM tokens go straight into the stream-input socket and its audio is played', async () => {
    const streamTts = new ElevenLabsStreamInputTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'v', modelId: 'eleven_flash_v2_5' });
    const h = setup({}, { streamTts });
    const sessionsBefore = el.streamInputSessions.length;
    oai.chat.push({ text: ['We open ', 'at nine. ', 'We close at five.'] });
    await h.caller.say('When do you open?', 900);
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1, 20_000, 1);
    expect(el.streamInputSessions.slice(sessionsBefore).map((x) => x.texts)).toEqual([['We open ', 'at nine. ', 'We close at five.']]);
    expect(Buffer.from(h.call.carrier.heard).equals(Buffer.concat([fakeUlaw('We open at nine. '), fakeUlaw('We close at five.')]))).toBe(true);
    expect(h.ev('turn.tts_first_byte')[0]!.data.provider).toBe('elevenlabs-ws');
    expect(h.agent.messages().at(-1)).toMatchObject({ role: 'assistant', content: 'We open at nine. We close at five.' });
  });

  it('token streaming: a barge-in cuts the history by the alignment of what was heard', async () => {
    const streamTts = new ElevenLabsStreamInputTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'v', modelId: 'm' });
    const h = setup({}, { streamTts });
    const full = ['Our plans are basic, plus and premium.', 'Basic costs ten dollars a month with calls.', 'Plus costs twenty dollars and adds texts.'];
    oai.chat.push({ text: full.map((x) => `${x} `) });
    oai.chat.push({ text: ['Sure.'] });
    await h.caller.say('What plans do you have?', 1000);
    await h.caller.silenceUntil(() => h.ev('turn.first_audio').length === 1, 20_000, 1);
    // The first sentence (1.95 s) and a bit of the second are heard (waiting on audio, not on time).
    await h.caller.silenceUntil(() => h.call.carrier.heard.length >= 2300 * 8, 20_000, 1);
    await h.caller.say('Stop, billing please.', 1000);
    await h.caller.silenceUntil(() => oai.chatRequests.length === 2, 20_000, 1);
    const assistant = oai.chatRequests[1]!.body.messages.filter((m) => m.role === 'assistant').at(-1)!.content!;
    expect(assistant.startsWith(`${full[0]} `)).toBe(true);
    expect(assistant.endsWith('…')).toBe(true);
    expect(assistant.length).toBeLessThan(`${full[0]} ${full[1]}`.length);
  });

  it('token streaming that fails before any audio falls back to the sentence chain, losing no words', async () => {
    const streamTts = new ElevenLabsStreamInputTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'v', modelId: 'm' });
    const h = setup({}, { streamTts });
    await h.caller.silenceUntil(() => h.cache.size === 3, 20_000, 1); // static prompts prefetched
    el.streamInput.push({ fault: 'http500' });
    oai.chat.push({ text: ['First part. ', 'Second part.'] });
    await h.caller.say('Tell me.', 700);
    await h.caller.silenceUntil(() => h.ev('turn.completed').length === 1, 20_000, 1);
    expect(h.ev('agent.tts_fallback')[0]!.data).toMatchObject({ from: 'elevenlabs-ws', to: 'elevenlabs>openai-tts' });
    expect(el.streamRequests.map((r) => r.body.text).slice(-2)).toEqual(['First part.', 'Second part.']);
    expect(Buffer.from(h.call.carrier.heard).equals(Buffer.concat([fakeUlaw('First part.'), fakeUlaw('Second part.')]))).toBe(true);
  });

  it('end to end through createProviders: realtime transcription over TLS, LLM and ElevenLabs', async () => {
    const providers = createProviders({
      openaiApiKey: oai.apiKey,
      openaiBaseUrl: oai.baseURL,
      openaiRealtimeBaseUrl: oai.tlsBaseURL,
      openaiRealtimeCa: TEST_CA,
      elevenlabsApiKey: el.apiKey,
      elevenlabsBaseUrl: el.baseUrl,
      elevenlabsVoiceId: 'voiceX',
      policy,
    });
    oai.realtime.length = 0;
    oai.realtime.push([
      { atAudioMs: 100, type: 'speech_started' },
      { atAudioMs: 1100, type: 'speech_stopped' },
      { atAudioMs: 1300, type: 'completed', text: 'Do you deliver on Sundays?' },
    ]);
    oai.chat.push({ text: ['No, ', 'only Monday to Saturday.'] });
    const call = createTestCall();
    const agent = new AgentSession(call.session, { instructions: 'x', tools: [] }, {}, { stt: providers.stt, llm: providers.llm, tts: providers.tts, ttsCache: providers.ttsCache }, new AbortController().signal);
    const running = agent.run();
    try {
      // Real sockets: give them wall time between frames so the transcript arrives as in a live call.
      const speech = tone(1200);
      for (let off = 0; off < speech.length; off += 1600) {
        await call.feed(speech.subarray(off, off + 1600));
        await new Promise((r) => setTimeout(r, 2));
      }
      for (let i = 0; i < 400 && !call.events.some((e) => e.type === 'turn.completed'); i++) {
        await call.feedSilence(40);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(oai.chatRequests.at(-1)!.body.messages.at(-1)).toMatchObject({ role: 'user', content: 'Do you deliver on Sundays?' });
      expect(Buffer.from(call.carrier.heard).equals(fakeUlaw('No, only Monday to Saturday.'))).toBe(true);
      expect(el.streamRequests.at(-1)).toMatchObject({ voiceId: 'voiceX', outputFormat: 'ulaw_8000' });
      expect(oai.realtimeConnections.at(-1)!.audioBytes).toBeGreaterThanOrEqual(1200 * 8);
    } finally {
      call.session.end('test done');
      await Promise.race([running, new Promise((r) => setTimeout(r, 500))]);
      await providers.close();
    }
  });
});
