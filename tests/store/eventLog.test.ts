import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallEvent } from '../../src/call/events.ts';
import type { Queryable } from '../../src/store/db.ts';
import { EventLog, type EventLogOptions } from '../../src/store/eventLog.ts';
import { captureLogger, openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';
import { TcpProxy } from '../../bench/lib/tcpProxy.ts';

/**
 * A pool wrapper with injectable faults, for engines without a socket to break (PGlite):
 *   fail        — every query is refused at once (connection refused)
 *   stall       — queries hang until the mode changes, then run
 *   lose-answer — the query runs, then the caller gets an error (answer lost on the way back)
 */
class FaultyDb implements Queryable {
  mode: 'ok' | 'fail' | 'stall' | 'lose-answer' = 'ok';
  inserts = 0;
  /** Whether each INSERT into call_events was the idempotent one (ON CONFLICT), in order. */
  readonly idempotent: boolean[] = [];
  readonly #inner: Queryable;
  #stalled: (() => void)[] = [];

  constructor(inner: Queryable) {
    this.#inner = inner;
  }

  set(mode: FaultyDb['mode']): void {
    this.mode = mode;
    if (mode !== 'stall') for (const release of this.#stalled.splice(0)) release();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- same signature as Queryable
  async query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (text.startsWith('INSERT INTO call_events')) {
      this.inserts++;
      this.idempotent.push(text.includes('ON CONFLICT'));
    }
    if (this.mode === 'fail') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    if (this.mode === 'stall') await new Promise<void>((resolve) => this.#stalled.push(resolve));
    const result = await this.#inner.query<R>(text, values);
    if (this.mode === 'lose-answer') throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
    return result;
  }
}

const speech = (atMs: number): CallEvent => ({ type: 'speech.started', atMs });
/** An event no producer could emit (the type system forbids it): the log must store or refuse it all the same. */
const untyped = (e: { type: string; atMs: number; data?: unknown }): CallEvent => e as CallEvent;

function timeAppends(log: EventLog, count: number, callIds: readonly string[], firstAtMs = 0): { meanUs: number; p99Us: number; maxUs: number } {
  const us = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const callId = callIds[i % callIds.length] as string;
    const t0 = performance.now();
    log.append(callId, { type: 'dtmf', atMs: firstAtMs + i * 20, digit: String(i % 10), source: 'carrier' });
    us[i] = (performance.now() - t0) * 1000;
  }
  const sorted = Float64Array.from(us).sort();
  return {
    meanUs: us.reduce((a, b) => a + b, 0) / count,
    p99Us: sorted[Math.floor(count * 0.99)] ?? 0,
    maxUs: sorted[count - 1] ?? 0,
  };
}

describe.each(testDatabases())('EventLog on %s', (kind) => {
  let t: TestDatabase;
  let faulty: FaultyDb;
  let log: EventLog | null = null;
  const logs = captureLogger();

  const make = (opts: Partial<EventLogOptions> = {}): EventLog => {
    log = new EventLog({ db: faulty, log: logs, flushIntervalMs: 20, retryBaseMs: 10, retryMaxMs: 80, ...opts });
    return log;
  };
  const seqs = async (callId: string): Promise<number[]> => (await (log as EventLog).listEvents(callId)).map((e) => e.seq);
  const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterAll(() => t.cleanup());
  beforeEach(async () => {
    await t.db.pool.query('TRUNCATE call_events');
    faulty = new FaultyDb(t.db.pool);
    logs.entries.length = 0;
  });
  afterEach(async () => {
    faulty.set('ok');
    await log?.close();
    log = null;
  });

  it('numbers events per call and reads them back in order with their fields', async () => {
    const wall = Date.parse('2026-11-21T12:00:00.000Z');
    let tick = 0;
    const el = make({ wallClock: () => wall + tick++ });
    el.append('a', { type: 'call.started', atMs: 0, carrier: 'twilio', streamId: 'MZ1', carrierCallId: 'CA1', mediaFormat: 'audio/x-mulaw;rate=8000' });
    el.append('b', speech(5));
    el.append('a', { type: 'amd.verdict', atMs: 2480.5, result: 'machine', answeredBy: 'machine_start', confidence: 0.8, reason: 'long greeting' });
    el.append('a', untyped({ type: 'flow.node_entered', atMs: 2500, data: { node: 'vm', nested: { list: [1, 'two'] } } }));
    el.append('a', { type: 'dtmf', atMs: 3000, digit: '#', source: 'inband', durationMs: 80 });
    expect(await el.flush()).toBe(true);
    expect(await el.listEvents('a')).toEqual([
      { seq: 1, atMs: 0, wallTime: '2026-11-21T12:00:00.000Z', type: 'call.started', carrier: 'twilio', streamId: 'MZ1', carrierCallId: 'CA1', mediaFormat: 'audio/x-mulaw;rate=8000' },
      { seq: 2, atMs: 2480.5, wallTime: '2026-11-21T12:00:00.002Z', type: 'amd.verdict', result: 'machine', answeredBy: 'machine_start', confidence: 0.8, reason: 'long greeting' },
      { seq: 3, atMs: 2500, wallTime: '2026-11-21T12:00:00.003Z', type: 'flow.node_entered', data: { node: 'vm', nested: { list: [1, 'two'] } } },
      { seq: 4, atMs: 3000, wallTime: '2026-11-21T12:00:00.004Z', type: 'dtmf', digit: '#', source: 'inband', durationMs: 80 },
    ]);
    expect(await el.listEvents('b')).toEqual([{ seq: 1, atMs: 5, wallTime: '2026-11-21T12:00:00.001Z', type: 'speech.started' }]);
    expect(await el.listEvents('a', { afterSeq: 2, limit: 1 })).toMatchObject([{ seq: 3 }]);
    expect(el.stats()).toMatchObject({ buffered: 0, written: 5, dropped: 0, rejected: 0, failedWrites: 0, lastError: null });
  });

  it('writes in batches: full batches at once, the rest after the interval', async () => {
    const el = make({ maxBatch: 100, flushIntervalMs: 50 });
    for (let i = 0; i < 1050; i++) el.append(`c${i % 3}`, speech(i));
    // Full batches go out without waiting for the interval.
    await vi.waitFor(() => expect(el.stats().written).toBe(1000), { timeout: 10_000, interval: 5 });
    await vi.waitFor(() => expect(el.stats().written).toBe(1050), { timeout: 10_000, interval: 5 });
    expect(faulty.inserts).toBe(11);
    for (const c of ['c0', 'c1', 'c2']) expect(await seqs(c)).toEqual(range(1, 350));
    // A trickle is written within the interval without anyone calling flush().
    el.append('c0', speech(99_999));
    await vi.waitFor(() => expect(el.stats().written).toBe(1051), { timeout: 10_000, interval: 5 });
    expect(faulty.inserts).toBe(12);
  });

  it('keeps appending in microseconds while the database refuses, then writes everything in order', async () => {
    const el = make();
    el.append('x', speech(0));
    await el.flush();
    faulty.set('fail');
    const timing = timeAppends(el, 5000, ['x', 'y', 'z'], 20);
    await vi.waitFor(() => expect(el.stats().failedWrites).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 5 });
    expect(el.stats()).toMatchObject({ buffered: 5000, dropped: 0, lastError: expect.stringContaining('ECONNREFUSED') });
    // Non-blocking: the append path never waits on the database (a round trip is milliseconds).
    expect(timing.meanUs).toBeLessThan(50);
    expect(timing.p99Us).toBeLessThan(500);
    // Flushing while the database is down reports failure at the deadline instead of hanging.
    expect(await el.flush(100)).toBe(false);
    faulty.set('ok');
    expect(await el.flush(10_000)).toBe(true);
    // 5000 appends round-robin over x, y, z (x also has the one from before the outage).
    expect(await seqs('x')).toEqual(range(1, 1668));
    expect(await seqs('y')).toEqual(range(1, 1667));
    expect(await seqs('z')).toEqual(range(1, 1666));
    const atMs = (await el.listEvents('x')).map((e) => e.atMs);
    expect(atMs).toEqual([...atMs].sort((a, b) => a - b));
    expect(el.stats()).toMatchObject({ buffered: 0, written: 5001, dropped: 0 });
    expect(logs.entries.map((e) => e.msg)).toEqual(expect.arrayContaining(['event log write failed; buffering and retrying', 'event log writes recovered']));
  });

  it('keeps appending while a write hangs, and delivers once it returns', async () => {
    const el = make();
    faulty.set('stall');
    el.append('s', speech(0));
    const firstFlush = el.flush(50);
    const timing = timeAppends(el, 3000, ['s']);
    expect(await firstFlush).toBe(false);
    expect(el.stats().buffered).toBe(3001);
    expect(timing.p99Us).toBeLessThan(500);
    faulty.set('ok');
    expect(await el.flush(10_000)).toBe(true);
    expect(await seqs('s')).toEqual(range(1, 3001));
  });

  it('drops the oldest beyond maxBuffered, counts and logs it, and keeps the newest', async () => {
    const el = make({ maxBuffered: 1000 });
    faulty.set('fail');
    for (let i = 0; i < 1500; i++) el.append('d', speech(i));
    expect(el.stats()).toMatchObject({ buffered: 1000, dropped: 500 });
    expect(logs.entries.filter((e) => e.msg === 'event log buffer full: dropping the oldest call events')).toHaveLength(1);
    faulty.set('ok');
    expect(await el.flush(10_000)).toBe(true);
    expect(await seqs('d')).toEqual(range(501, 1500));
    expect(el.stats()).toMatchObject({ buffered: 0, written: 1000, dropped: 500 });
  });

  it('does not count as dropped what an in-flight write stored after all', async () => {
    const el = make({ maxBuffered: 300, maxBatch: 100 });
    faulty.set('stall');
    for (let i = 0; i < 100; i++) el.append('f', speech(i));
    const pending = el.flush(10); // starts the (hanging) write of events 1..100
    for (let i = 100; i < 500; i++) el.append('f', speech(i));
    await pending;
    // 500 appended, room for 300: the 200 oldest are evicted. 1..100 are in the hanging write
    // (not yet counted), 101..200 are dropped, 201..500 stay buffered.
    expect(el.stats()).toMatchObject({ buffered: 300, dropped: 100 });
    faulty.set('ok');
    expect(await el.flush(10_000)).toBe(true);
    expect(await seqs('f')).toEqual([...range(1, 100), ...range(201, 500)]);
    expect(el.stats()).toMatchObject({ buffered: 0, written: 400, dropped: 100 });
  });

  it('retries a write whose answer was lost without storing anything twice', async () => {
    const el = make();
    faulty.set('lose-answer');
    for (let i = 0; i < 10; i++) el.append('l', speech(i));
    await vi.waitFor(() => expect(el.stats().failedWrites).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 5 });
    faulty.set('ok');
    expect(await el.flush(10_000)).toBe(true);
    expect(await seqs('l')).toEqual(range(1, 10));
    expect(el.stats()).toMatchObject({ written: 0, duplicates: 10, buffered: 0 });
  });

  it('never throws from append: unserializable events are counted, refused rows do not block the batch', async () => {
    const el = make();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => el.append('r', untyped({ type: 'flow.bad', atMs: 1, data: { n: 10n } }))).not.toThrow();
    expect(() => el.append('r', untyped({ type: 'flow.bad', atMs: 1, data: cyclic }))).not.toThrow();
    expect(el.stats().rejected).toBe(2);
    el.append('r', untyped({ type: 'flow.ok', atMs: 2, data: { text: 'nul\u0000here', path: 'C:\\u0000' } }));
    el.append('r', untyped({ type: 'flow.\u0000bad', atMs: 3 })); // PostgreSQL text cannot hold NUL: refused
    el.append('r', untyped({ type: 'flow.after', atMs: Number.NaN }));
    expect(await el.flush(10_000)).toBe(true);
    const stored = await el.listEvents('r');
    expect(stored).toMatchObject([
      { seq: 1, type: 'flow.ok', data: { text: 'nul\ufffdhere', path: 'C:\\u0000' } },
      { seq: 3, type: 'flow.after' },
    ]);
    expect(stored[1]?.atMs).toBeNaN();
    expect(el.stats()).toMatchObject({ rejected: 3, written: 2, buffered: 0 });
    expect(logs.entries.some((e) => e.msg === 'call event refused by the database; not stored' && (e.obj as { seq: number }).seq === 2)).toBe(true);
  });

  it('close() writes what is buffered; later appends are dropped and counted', async () => {
    const el = make({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 50; i++) el.append('z', speech(i));
    await el.close();
    expect(await seqs('z')).toEqual(range(1, 50));
    el.append('z', speech(51));
    el.append('z', speech(52));
    expect(el.stats()).toMatchObject({ written: 50, dropped: 2, buffered: 0 });
    expect(logs.entries.filter((e) => e.msg?.startsWith('event appended after the event log was closed') === true)).toHaveLength(1);
    expect(await seqs('z')).toEqual(range(1, 50));
  });

  it('close() gives up at its deadline when the database stays down, counting the loss', async () => {
    const el = make({ closeTimeoutMs: 200 });
    faulty.set('fail');
    for (let i = 0; i < 20; i++) el.append('q', speech(i));
    const t0 = performance.now();
    await el.close();
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(el.stats()).toMatchObject({ buffered: 0, dropped: 20, written: 0 });
    expect(logs.entries.some((e) => e.level === 'error' && e.msg === 'event log closed with unwritten events; they are lost')).toBe(true);
  });

  it('writes a healthy batch with a plain INSERT, and a retried one idempotently', async () => {
    const el = make();
    for (let i = 0; i < 5; i++) el.append('p', speech(i));
    expect(await el.flush()).toBe(true);
    // The plain INSERT spares PostgreSQL the speculative insertion of every row.
    expect(faulty.idempotent).toEqual([false]);
    faulty.set('lose-answer');
    for (let i = 5; i < 10; i++) el.append('p', speech(i));
    await vi.waitFor(() => expect(el.stats().failedWrites).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 5 });
    faulty.set('ok');
    expect(await el.flush(10_000)).toBe(true);
    // The batch whose answer was lost (its first attempt, plain) may be stored: every attempt after a
    // failure is idempotent.
    expect(faulty.idempotent[1]).toBe(false);
    expect(faulty.idempotent.length).toBeGreaterThan(2);
    expect(faulty.idempotent.slice(2).every((x) => x)).toBe(true);
    expect(await seqs('p')).toEqual(range(1, 10));
    expect(el.stats()).toMatchObject({ written: 5, duplicates: 5, buffered: 0 });
    // Healthy again: plain.
    el.append('p', speech(10));
    expect(await el.flush()).toBe(true);
    expect(faulty.idempotent.at(-1)).toBe(false);
    expect(await seqs('p')).toEqual(range(1, 11));
  });

  it('counts a sequence reused after release() as duplicates instead of overwriting', async () => {
    const el = make();
    el.append('rel', speech(1));
    el.append('rel', speech(2));
    await el.flush();
    el.release('rel');
    el.append('rel', { type: 'speech.stopped', atMs: 3, durationMs: 1 });
    expect(await el.flush()).toBe(true);
    expect((await el.listEvents('rel')).map((e) => e.type)).toEqual(['speech.started', 'speech.started']);
    expect(el.stats()).toMatchObject({ written: 2, duplicates: 1 });
  });

  it('closes when its AbortSignal aborts', async () => {
    const ac = new AbortController();
    const el = make({ signal: ac.signal, flushIntervalMs: 60_000 });
    el.append('g', speech(1));
    ac.abort();
    await el.close(); // the same close the abort started
    expect(await seqs('g')).toEqual([1]);
  });
});

// The real thing: a TCP proxy between the pool and PostgreSQL that resets or black-holes traffic.
describe.each(testDatabases().filter((k) => k === 'postgres'))('EventLog through a failing network (%s)', (kind) => {
  let proxy: TcpProxy;
  let t: TestDatabase;
  let direct: pg.Pool;

  beforeAll(async () => {
    const admin = new URL(process.env.TEST_DATABASE_URL ?? '');
    proxy = await TcpProxy.start({ host: admin.hostname, port: Number(admin.port || 5432) });
    t = await openTestDatabase(kind, {
      connectThrough: (url) => proxy.rewrite(url),
      options: { poolMax: 2, statementTimeoutMs: 500, queryTimeoutMs: 700, connectionTimeoutMs: 700 },
    });
    direct = new pg.Pool({ connectionString: t.databaseUrl, max: 1 });
  });
  afterAll(async () => {
    await direct.end();
    await t.cleanup();
    await proxy.close();
  });

  async function storedSeqs(callId: string): Promise<number[]> {
    const { rows } = await direct.query<{ seq: number }>('SELECT seq FROM call_events WHERE call_id = $1 ORDER BY seq', [callId]);
    return rows.map((r) => r.seq);
  }

  /** Appends spread over `ms` of wall time so the flusher retries while events keep coming; returns p99 µs. */
  async function appendDuring(el: EventLog, callId: string, count: number, ms: number): Promise<number> {
    const us: number[] = [];
    const chunks = 10;
    for (let c = 0; c < chunks; c++) {
      for (let i = 0; i < count / chunks; i++) {
        const t0 = performance.now();
        el.append(callId, speech(c * 1000 + i));
        us.push((performance.now() - t0) * 1000);
      }
      await new Promise((resolve) => setTimeout(resolve, ms / chunks));
    }
    us.sort((a, b) => a - b);
    return us[Math.floor(us.length * 0.99)] ?? 0;
  }

  it('rides out a database that goes away and comes back', async () => {
    const el = new EventLog({ db: t.db.pool, log: t.log, flushIntervalMs: 20, retryBaseMs: 20, retryMaxMs: 200 });
    try {
      el.append('net-kill', speech(0));
      expect(await el.flush(5_000)).toBe(true);
      proxy.kill();
      const p99Us = await appendDuring(el, 'net-kill', 2000, 1000);
      expect(el.stats().failedWrites).toBeGreaterThanOrEqual(2);
      expect(el.stats().buffered).toBe(2000);
      // A single sample can be preempted on a busy machine; the 99th percentile cannot hide a wait.
      expect(p99Us).toBeLessThan(500);
      proxy.restore();
      expect(await el.flush(20_000)).toBe(true);
      expect(await storedSeqs('net-kill')).toEqual(Array.from({ length: 2001 }, (_, i) => i + 1));
      expect(el.stats()).toMatchObject({ dropped: 0, buffered: 0 });
    } finally {
      proxy.restore();
      await el.close();
    }
  });

  it('rides out a stalled network path (no answer, no reset)', async () => {
    const el = new EventLog({ db: t.db.pool, log: t.log, flushIntervalMs: 20, retryBaseMs: 20, retryMaxMs: 200 });
    try {
      el.append('net-stall', speech(0));
      expect(await el.flush(5_000)).toBe(true);
      proxy.stall();
      expect(await appendDuring(el, 'net-stall', 1000, 1500)).toBeLessThan(500);
      // The pool's client-side query timeout turns the hang into failures that are retried.
      await vi.waitFor(() => expect(el.stats().failedWrites).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 20 });
      expect(el.stats().buffered).toBeGreaterThan(0);
      proxy.restore();
      expect(await el.flush(20_000)).toBe(true);
      expect(await storedSeqs('net-stall')).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
      expect(el.stats()).toMatchObject({ dropped: 0, buffered: 0 });
      expect(await t.db.ping()).toBe(true);
    } finally {
      proxy.restore();
      await el.close();
    }
  });
});
