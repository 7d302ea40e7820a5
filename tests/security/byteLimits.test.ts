// Issue 16 items 8 and 9: limits in bytes. A `set` loop doubling a list must fail the flow, not the
// process; an event-log entry is capped in bytes (an http body does not land whole in the timeline);
// inbound media held before a call's flow starts is bounded in bytes per call and per process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/call/byteBudget.ts';
import { MAX_VARIABLE_BYTES } from '../../src/flow/context.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { EventLog, MAX_EVENT_DATA_BYTES } from '../../src/store/eventLog.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createTestCall } from '../helpers/testCall.ts';
import { ScriptedTts, startFlow } from '../flow/helpers.ts';

describe('flow variable size', () => {
  it('stops a set loop that doubles a list, with a flow error instead of running out of memory', async () => {
    const flow = {
      id: 'doubling',
      start: 'grow',
      variables: { x: ['seed'] },
      nodes: {
        grow: { type: 'set', values: { x: { expr: '[vars.x, vars.x]' } }, next: 'again' },
        again: { type: 'set', values: { n: 1 }, next: 'grow' },
      },
    } as unknown as FlowDefinition;
    const heapBefore = process.memoryUsage().heapUsed;
    const h = startFlow(flow, { deps: { tts: new ScriptedTts() } });
    await h.finish();
    const error = h.flowEvents().find((e) => e.type === 'flow.error' || e.type === 'flow.fallback');
    expect(error?.data).toMatchObject({ code: 'GW_ERR_FLOW_VALUE_TOO_LARGE' });
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses one variable over the cap and keeps the ones under it', async () => {
    const flow = {
      id: 'big',
      start: 'a',
      nodes: {
        a: { type: 'set', values: { small: 'ok' }, next: 'b' },
        b: { type: 'set', values: { big: { expr: 'vars.s + vars.s' } }, next: 'z', onError: 'z' },
        z: { type: 'hangup' },
      },
    } as unknown as FlowDefinition;
    const h = startFlow(flow, { deps: { tts: new ScriptedTts() }, variables: { s: 'x'.repeat(MAX_VARIABLE_BYTES / 2 + 10) } });
    const result = await h.finish();
    expect(result.variables.small).toBe('ok');
    expect(result.variables.big).toBeUndefined();
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_VALUE_TOO_LARGE' });
  });
});

describe('event-log entry size', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('stores an oversized event with its small fields and a truncation marker', async () => {
    const el = new EventLog({ db: t.db.pool, flushIntervalMs: 10 });
    try {
      el.append('big-event', { type: 'flow.variable.set', atMs: 20, data: { flowId: 'f', name: 'http', value: { body: 'y'.repeat(1 << 20) } } });
      expect(await el.flush(5000)).toBe(true);
      const [stored] = await el.listEvents('big-event');
      expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(MAX_EVENT_DATA_BYTES + 200);
      // The event keeps what says what it was; the oversized part is replaced by its size.
      expect(stored).toMatchObject({ type: 'flow.variable.set', atMs: 20, data: { flowId: 'f', name: 'http' }, truncated: { bytes: expect.any(Number) } });
      expect((stored as unknown as { truncated: { bytes: number } }).truncated.bytes).toBeGreaterThan(1 << 20);
    } finally {
      await el.close();
    }
  });
});

describe('event-log buffer size', () => {
  it('holds at most maxBufferedBytes while the database is down, dropping the oldest (counted)', async () => {
    const down = { query: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) };
    const el = new EventLog({ db: down as never, flushIntervalMs: 5, retryBaseMs: 1000, maxBufferedBytes: 100 * 1024, closeTimeoutMs: 10 });
    try {
      for (let i = 0; i < 40; i++) el.append('outage', { type: 'flow.warning', atMs: i, data: { flowId: 'f', code: 'GW_ERR_TEST', message: 'z'.repeat(10 * 1024) } });
      const stats = el.stats();
      expect(stats.buffered).toBeLessThanOrEqual(10);
      expect(stats.buffered).toBeGreaterThanOrEqual(8);
      expect(stats.dropped + stats.buffered).toBeGreaterThanOrEqual(39); // one may be in the failed write
    } finally {
      await el.close();
    }
  });
});

describe('held inbound media', () => {
  const bigMessage = new Uint8Array(48 * 1024).fill(0xff); // the largest a 64 KB websocket message carries

  it('is bounded in bytes per call: past the cap the call stops holding and processes its audio', async () => {
    const tc = createTestCall();
    tc.session.holdMedia();
    for (let i = 0; i < 40; i++) tc.session.receiveMedia(bigMessage); // 1.9 MB, far below 6,000 messages
    for (let i = 0; i < 100 && tc.session.mediaMs() === 0; i++) await new Promise((r) => setImmediate(r));
    expect(tc.session.mediaMs()).toBeGreaterThan(0);
    tc.session.end('test');
  });

  it('is bounded in bytes per process, across calls', async () => {
    const budget = new ByteBudget(600 * 1024);
    const a = createTestCall({ heldMediaBudget: budget });
    const b = createTestCall({ heldMediaBudget: budget });
    a.session.holdMedia();
    b.session.holdMedia();
    for (let i = 0; i < 8; i++) a.session.receiveMedia(bigMessage); // 384 KB held by a
    for (let i = 0; i < 8; i++) b.session.receiveMedia(bigMessage); // b reaches the process budget
    for (let i = 0; i < 100 && b.session.mediaMs() === 0; i++) await new Promise((r) => setImmediate(r));
    expect(a.session.mediaMs()).toBe(0);
    expect(b.session.mediaMs()).toBeGreaterThan(0);
    a.session.end('test');
    b.session.end('test');
    expect(budget.used).toBe(0); // what ended calls held is given back
  });
});
