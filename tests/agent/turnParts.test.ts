// The parts the agent session is built from, on a bare media clock.
import { describe, expect, it } from 'vitest';
import { DtmfCollector } from '../../src/agent/turn/dtmfCollector.ts';
import { MediaTimers } from '../../src/agent/turn/mediaTimers.ts';
import { NoInputWatchdog } from '../../src/agent/turn/noInputWatchdog.ts';
import { TaskGroup } from '../../src/agent/turn/taskGroup.ts';
import { MediaClock } from '../../src/call/mediaClock.ts';

function clockAndTimers(): { advanceMs: (ms: number) => void; timers: MediaTimers } {
  const clock = new MediaClock();
  return {
    advanceMs: (ms) => {
      clock.tick(ms * 8);
      clock.fireDue();
    },
    timers: new MediaTimers((ms, fire) => clock.schedule(ms, fire)),
  };
}

describe('media timers', () => {
  it('a slot set again replaces the pending timer; cancelAll silences every timer', () => {
    const { advanceMs, timers } = clockAndTimers();
    const fired: string[] = [];
    const slot = timers.timer();
    slot.set(100, () => fired.push('first'));
    slot.set(200, () => fired.push('second'));
    timers.once(300, () => fired.push('once'));
    advanceMs(250);
    expect(fired).toEqual(['second']);
    timers.cancelAll();
    slot.set(10, () => fired.push('after close'));
    advanceMs(500);
    expect(fired).toEqual(['second']);
  });
});

describe('DTMF collector', () => {
  it('commits on # at once, otherwise after the inter-digit gap', () => {
    const { advanceMs, timers } = clockAndTimers();
    const turns: string[] = [];
    const dtmf = new DtmfCollector(timers.timer(), 1500, (d) => turns.push(d));
    dtmf.press('1');
    dtmf.press('2');
    dtmf.press('#');
    expect(turns).toEqual(['12#']);
    dtmf.press('7');
    advanceMs(1000);
    dtmf.press('8');
    advanceMs(1000);
    expect(turns).toEqual(['12#']);
    advanceMs(500);
    expect(turns).toEqual(['12#', '78']);
  });
});

describe('no-input watchdog', () => {
  it('reprompts up to the limit, then gives up; an answer resets the count', () => {
    const { advanceMs, timers } = clockAndTimers();
    const log: string[] = [];
    const w = new NoInputWatchdog(timers.timer(), 1, { stillWaiting: () => true, reprompt: (n) => log.push(`reprompt ${n}`), giveUp: () => log.push('give up') });
    w.arm(1000);
    advanceMs(1000);
    w.answered();
    w.arm(1000);
    advanceMs(1000);
    w.arm(1000);
    advanceMs(999);
    w.disarm();
    advanceMs(10);
    w.arm(1000);
    advanceMs(1000);
    expect(log).toEqual(['reprompt 1', 'reprompt 1', 'give up']);
  });
});

describe('task group', () => {
  it('settles once every task has, including ones added while waiting', async () => {
    const g = new TaskGroup();
    const order: string[] = [];
    let release!: () => void;
    g.track(new Promise<void>((r) => (release = r)).then(() => order.push('a')));
    g.track(Promise.reject(new Error('handled by its owner')));
    const settled = g.settle().then(() => order.push('settled'));
    g.track(Promise.resolve().then(() => order.push('b')));
    release();
    await settled;
    expect(order).toEqual(['b', 'a', 'settled']);
    expect(g.size).toBe(0);
  });
});
