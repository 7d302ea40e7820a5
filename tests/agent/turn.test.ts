// Turn-taking building blocks: sentence chunking of streamed text, endpointing waits, backchannels,
// heard-text truncation, tool decisions, the circuit breaker and the retry policy.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../src/resilience/policy.ts';
import { withRetry } from '../../src/agent/resilience/retry.ts';
import { decideTool, toolDefinitions } from '../../src/agent/tools.ts';
import { isBackchannel } from '../../src/agent/turn/backchannel.ts';
import { classifyTranscript, DEFAULT_ENDPOINTING, endpointWait } from '../../src/agent/turn/endpointing.ts';
import { heardText } from '../../src/agent/turn/heardText.ts';
import { SentenceChunker } from '../../src/agent/turn/sentenceChunker.ts';
import { createError } from '../../src/errors.ts';

function chunkAll(pieces: string[], opts?: ConstructorParameters<typeof SentenceChunker>[0]): string[] {
  const c = new SentenceChunker(opts);
  const out = pieces.flatMap((p) => c.push(p));
  const rest = c.flush();
  return rest ? [...out, rest] : out;
}

describe('SentenceChunker', () => {
  it('emits each sentence as soon as the next token shows it ended', () => {
    const c = new SentenceChunker();
    expect(c.push('Sure')).toEqual([]);
    expect(c.push(', we open at 9.')).toEqual([]); // could still be "9.30"
    expect(c.push(' On')).toEqual(['Sure, we open at 9.']);
    expect(c.push(' Sundays? No! Closed')).toEqual(['On Sundays?', 'No!']);
    expect(c.flush()).toBe('Closed');
  });

  it('does not split decimals, abbreviations or e.g.', () => {
    expect(chunkAll(['It costs 3.50 dollars. Dr. Smith ', 'will call, e.g. tomorrow. Bye.'])).toEqual(['It costs 3.50 dollars.', 'Dr. Smith will call, e.g. tomorrow.', 'Bye.']);
  });

  it('is the same however the text is split into tokens', () => {
    const text = 'Hello there. How can I help you today? I can check balances.';
    const whole = chunkAll([text]);
    const byChar = chunkAll([...text]);
    expect(byChar).toEqual(whole);
    expect(whole).toEqual(['Hello there.', 'How can I help you today?', 'I can check balances.']);
  });

  it('may end the first piece of an answer at a clause break, to speak sooner', () => {
    const c = new SentenceChunker({ firstClauseMinChars: 20 });
    expect(c.push('Well, ')).toEqual([]); // too short to stand alone
    expect(c.push('looking at your account, ')).toEqual(['Well, looking at your account,']);
    expect(c.push('I see two payments, both ')).toEqual([]); // only the first piece is cut early
    expect(c.push('on time. Anything else?')).toEqual(['I see two payments, both on time.']);
    expect(c.flush()).toBe('Anything else?');
  });

  it('cuts very long unpunctuated text at a comma so TTS is not starved', () => {
    const out = chunkAll(['one two three four five, six seven eight nine ten eleven twelve'], { maxChars: 30 });
    expect(out[0]).toBe('one two three four five,');
    expect(out.every((s) => s.length <= 30)).toBe(true);
  });
});

describe('endpointing', () => {
  it('waits little after a complete sentence and long after a trailing "and" or filler', () => {
    expect(classifyTranscript('I want to pay my bill.')).toBe('complete');
    expect(classifyTranscript('I want to pay my bill and')).toBe('incomplete');
    expect(classifyTranscript('so um')).toBe('incomplete');
    expect(classifyTranscript('my number is 4 1 5,')).toBe('incomplete');
    expect(classifyTranscript('I want to pay my bill')).toBe('neutral');
    const o = DEFAULT_ENDPOINTING;
    expect(endpointWait('Yes.', o)).toEqual({ waitMs: o.completeMs, reason: 'complete' });
    expect(endpointWait('Yes and…', o)).toEqual({ waitMs: o.incompleteMs, reason: 'incomplete' });
    expect(endpointWait(undefined, o)).toEqual({ waitMs: o.transcriptTimeoutMs, reason: 'no_transcript' });
    expect(o.completeMs).toBeLessThan(o.neutralMs);
    expect(o.neutralMs).toBeLessThan(o.incompleteMs);
  });
});

describe('backchannels', () => {
  it('"mm-hm", "yeah", "okay right" and wordless noise do not interrupt; "stop" and real requests do', () => {
    for (const t of ['mm-hm', 'Mm-hmm.', 'yeah', 'okay, right', 'uh huh', '']) expect(isBackchannel(t), t).toBe(true);
    for (const t of ['stop', 'wait', 'no', 'yeah but I need billing', 'what?']) expect(isBackchannel(t), t).toBe(false);
  });
});

describe('heardText', () => {
  const sentences = [
    { text: 'We open at nine.', startMs: 0, durationMs: 1000 },
    { text: 'We close at five on weekdays.', startMs: 1000, durationMs: 2000 },
    { text: 'Anything else?', startMs: 3000, durationMs: 800 },
  ];
  it('keeps whole sentences heard and cuts the one in progress in proportion', () => {
    expect(heardText(sentences, 0)).toBe('');
    expect(heardText(sentences, 1000)).toBe('We open at nine.');
    expect(heardText(sentences, 2000)).toBe('We open at nine. We close at…');
    expect(heardText(sentences, 9999)).toBe('We open at nine. We close at five on weekdays. Anything else?');
  });
});

describe('tools', () => {
  it('offers only the node’s tools, with departments as an enum', () => {
    const defs = toolDefinitions(['transfer', 'end'], ['billing', 'support']);
    expect(defs.map((d) => d.name)).toEqual(['transfer', 'end']);
    expect(defs[0]!.parameters).toMatchObject({ properties: { department: { enum: ['billing', 'support'] } } });
  });

  it('maps calls to outcomes and rejects what the node does not allow', () => {
    const call = (name: string, args: unknown) => ({ id: 'c', name, arguments: JSON.stringify(args) });
    expect(decideTool(call('transfer', { department: 'billing' }), ['transfer'], ['billing'])).toMatchObject({ kind: 'terminal', exit: 'transfer', transferTo: 'billing' });
    expect(decideTool(call('transfer', { department: 'sales' }), ['transfer'], ['billing'])).toMatchObject({ kind: 'invalid' });
    expect(decideTool(call('transfer', { number: '+14155550123' }), ['transfer'], undefined, ['+14155550123'])).toMatchObject({ kind: 'terminal', transferTo: '+14155550123' });
    expect(decideTool(call('hangup', {}), ['transfer'], undefined)).toMatchObject({ kind: 'invalid' });
    expect(decideTool(call('end', { result: 'paid' }), ['end'], undefined)).toMatchObject({ kind: 'terminal', exit: 'done', result: 'paid', reason: 'tool:end' });
    expect(decideTool(call('set_variable', { name: 'account', value: '42' }), ['set_variable'], undefined)).toEqual({ kind: 'set_variable', name: 'account', value: '42' });
    expect(decideTool(call('send_dtmf', { digits: '1#' }), ['send_dtmf'], undefined)).toEqual({ kind: 'send_dtmf', digits: '1#' });
    expect(decideTool(call('send_dtmf', { digits: '1; rm' }), ['send_dtmf'], undefined)).toMatchObject({ kind: 'invalid' });
    expect(decideTool({ id: 'c', name: 'end', arguments: '{not json' }, ['end'], undefined)).toMatchObject({ kind: 'invalid' });
  });
});

describe('CircuitBreaker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after the threshold, half-opens after the cooldown with one trial, closes on success', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const b = new CircuitBreaker('x', { failureThreshold: 2, cooldownMs: 100 });
    await b.enter()?.failure(new Error('down'));
    const second = b.enter();
    expect(second).toBeDefined();
    await second?.failure(new Error('down'));
    expect(b.enter()).toBeUndefined();
    vi.setSystemTime(100);
    const trial = b.enter();
    expect(b.current()).toBe('half_open');
    expect(trial).toBeDefined();
    expect(b.enter()).toBeUndefined(); // one trial at a time
    await trial?.failure(new Error('still down'));
    expect(b.current()).toBe('open');
    vi.setSystemTime(200);
    const last = b.enter();
    expect(last).toBeDefined();
    await last?.success();
    expect(b.current()).toBe('closed');
  });

  it('a trial released without a verdict counts neither way', async () => {
    const b = new CircuitBreaker('x', { failureThreshold: 1, cooldownMs: 60_000 });
    await b.enter()?.release();
    expect(b.current()).toBe('closed');
    await b.enter()?.failure(new Error('down'));
    expect(b.current()).toBe('open');
  });
});

describe('withRetry', () => {
  it('retries retryable errors with backoff and stops at once on permanent ones', async () => {
    const signal = new AbortController().signal;
    let n = 0;
    const ok = await withRetry('p', async () => {
      if (n++ < 2) throw Object.assign(new Error('busy'), { status: 503 });
      return 'done';
    }, { retries: 3, baseDelayMs: 1, maxDelayMs: 2, signal, random: () => 0.5 });
    expect(ok).toBe('done');
    expect(n).toBe(3);
    n = 0;
    await expect(
      withRetry('p', async () => {
        n++;
        throw Object.assign(new Error('nope'), { status: 404 });
      }, { retries: 3, baseDelayMs: 1, maxDelayMs: 2, signal }),
    ).rejects.toMatchObject({ retryable: false });
    expect(n).toBe(1);
    await expect(withRetry('p', async () => Promise.reject(createError('GW_ERR_X', 'x', { retryable: true })), { retries: 1, baseDelayMs: 1, maxDelayMs: 1, signal })).rejects.toMatchObject({ code: 'GW_ERR_X' });
  });
});
