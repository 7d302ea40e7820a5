import { describe, expect, it } from 'vitest';
import { MediaClock } from '../../src/call/mediaClock.ts';

describe('MediaClock', () => {
  it('fires timers when the clock reaches them, in order, including ones scheduled later and earlier', () => {
    const clock = new MediaClock();
    const fired: string[] = [];
    clock.schedule(100, () => fired.push('b100'));
    clock.schedule(40, () => fired.push('a40'));
    clock.schedule(100, () => fired.push('c100'));
    clock.tick(8 * 39); // 39 ms
    clock.fireDue();
    expect(fired).toEqual([]);
    clock.tick(8); // 40 ms
    clock.fireDue();
    expect(fired).toEqual(['a40']);
    // Scheduled after the earliest left: the next due time moves earlier.
    clock.schedule(20, () => fired.push('d60'));
    clock.tick(8 * 20); // 60 ms
    clock.fireDue();
    expect(fired).toEqual(['a40', 'd60']);
    clock.tick(8 * 40); // 100 ms
    clock.fireDue();
    expect(fired).toEqual(['a40', 'd60', 'b100', 'c100']);
    // Empty again, then a new timer: still found.
    clock.schedule(20, () => fired.push('e120'));
    clock.tick(8 * 20);
    clock.fireDue();
    expect(fired.at(-1)).toBe('e120');
  });

  it('a timer scheduled by a firing timer for now fires in the same check; cancelled and dropped timers never fire', () => {
    const clock = new MediaClock();
    const fired: string[] = [];
    clock.schedule(20, () => {
      fired.push('first');
      clock.schedule(0, () => fired.push('chained'));
    });
    const cancel = clock.schedule(20, () => fired.push('cancelled'));
    cancel();
    clock.tick(160);
    clock.fireDue();
    expect(fired).toEqual(['first', 'chained']);
    clock.schedule(20, () => fired.push('dropped'));
    expect(clock.cancelAll()).toHaveLength(1);
    clock.tick(160);
    clock.fireDue();
    clock.schedule(20, () => fired.push('after'));
    clock.tick(160);
    clock.fireDue();
    expect(fired).toEqual(['first', 'chained', 'after']);
  });
});
