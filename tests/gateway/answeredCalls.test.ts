// Inbound calls answered lately, by the carrier's call id: a retried webhook finds the first answer's
// call for as long as a stream token issued for it could start a stream, and memory stays bounded.
import { describe, expect, it } from 'vitest';
import { STREAM_TOKEN_TTL_S } from '../../src/call/streamToken.ts';
import { AnsweredCalls, type AnsweredCall } from '../../src/gateway/answeredCalls.ts';

const call = (id: string): AnsweredCall => ({ id, fromNumber: '+14155550100', toNumber: '+14155550199', direction: 'inbound', flowId: null });

describe('answered calls', () => {
  it("keeps a call for a token's life and a minute, then forgets it", () => {
    let now = 1_000_000;
    const answered = new AnsweredCalls(() => now);
    answered.remember('twilio:CA1', call('a'));
    now += 1000;
    answered.remember('twilio:CA2', call('b'));
    expect(answered.get('twilio:CA1')?.id).toBe('a');
    expect(answered.get('signalwire:CA1')).toBeUndefined();
    now += (STREAM_TOKEN_TTL_S + 60) * 1000 - 500;
    expect(answered.get('twilio:CA1')).toBeUndefined();
    expect(answered.get('twilio:CA2')?.id).toBe('b');
    expect(answered.size).toBe(1);
  });

  it('is bounded: the oldest calls are forgotten first', () => {
    const answered = new AnsweredCalls(() => 0);
    for (let i = 0; i < 20_005; i++) answered.remember(`twilio:CA${i}`, call(String(i)));
    expect(answered.size).toBe(20_000);
    expect(answered.get('twilio:CA4')).toBeUndefined();
    expect(answered.get('twilio:CA5')?.id).toBe('5');
    expect(answered.get('twilio:CA20004')?.id).toBe('20004');
  });
});
