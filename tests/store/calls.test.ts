import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRng } from '../../scripts/fixtures/signal.ts';
import { CallStore, parseCallStatus, type CallRecord, type CallStatus, type NewCall } from '../../src/store/calls.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

/** A seeded PRNG (mulberry32) so a failing shuffle can be replayed from its seed. */
const prng = createRng;

function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (s: number): Date => new Date(T0 + s * 1000);

function inbound(carrierCallId: string, extra: Partial<NewCall> = {}): NewCall {
  return { carrier: 'twilio', carrierCallId, direction: 'inbound', fromNumber: '+15550000001', toNumber: '+15550000002', ...extra };
}

describe('parseCallStatus', () => {
  it('accepts carrier spellings and the Twilio "answered" event', () => {
    expect(parseCallStatus('in-progress')).toBe('in-progress');
    expect(parseCallStatus(' Completed ')).toBe('completed');
    expect(parseCallStatus('answered')).toBe('in-progress');
    expect(parseCallStatus('on-hold')).toBeNull();
  });
});

describe.each(testDatabases())('CallStore on %s', (kind) => {
  let t: TestDatabase;
  let store: CallStore;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    store = new CallStore(t.db.pool);
  });
  afterAll(() => t.cleanup());
  beforeEach(async () => {
    await t.db.pool.query('TRUNCATE calls, call_events');
  });

  it('creates a call with typed camelCase fields and ISO timestamps', async () => {
    const { created, call } = await store.create(
      inbound('CA1', { streamId: null, flowId: 'welcome', flowVersion: 3, metadata: { campaign: 'x' }, createdAt: at(0) }),
    );
    expect(created).toBe(true);
    expect(call).toEqual<CallRecord>({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      carrier: 'twilio',
      carrierCallId: 'CA1',
      streamId: null,
      direction: 'inbound',
      fromNumber: '+15550000001',
      toNumber: '+15550000002',
      status: 'ringing',
      flowId: 'welcome',
      flowVersion: 3,
      createdAt: '2026-11-21T10:00:00.000Z',
      answeredAt: null,
      endedAt: null,
      endReason: null,
      amdResult: null,
      amdAnsweredBy: null,
      amdConfidence: null,
      amdDecisionMs: null,
      recordingPath: null,
      instanceId: null,
      metadata: { campaign: 'x' },
    });
    expect(await store.get(call.id)).toEqual(call);
    expect(await store.findByCarrierCallId('twilio', 'CA1')).toEqual(call);
    expect(await store.findByCarrierCallId('signalwire', 'CA1')).toBeNull();
    expect(await store.get('missing')).toBeNull();
  });

  it('is idempotent on (carrier, carrierCallId): a retried webhook gets the same call', async () => {
    const first = await store.create(inbound('CA-retry'));
    const again = await store.create(inbound('CA-retry', { fromNumber: '+19999999999' }));
    expect(again).toEqual({ created: false, call: first.call });
    // The same carrier id on another carrier is another call.
    const other = await store.create(inbound('CA-retry', { carrier: 'signalwire' }));
    expect(other.created).toBe(true);
    // Concurrent duplicates (a webhook retried while the first is still being handled).
    const racing = await Promise.all(Array.from({ length: 5 }, () => store.create(inbound('CA-race'))));
    expect(racing.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.call.id)).size).toBe(1);
  });

  it('records an outbound call before the carrier names it', async () => {
    const { call } = await store.create({ carrier: 'signalwire', direction: 'outbound', fromNumber: '+1', toNumber: '+2' });
    expect(call).toMatchObject({ status: 'queued', carrierCallId: null });
    // Several unnamed outbound calls coexist (NULLs are distinct in the unique key).
    await store.create({ carrier: 'signalwire', direction: 'outbound', fromNumber: '+1', toNumber: '+3' });
    expect(await store.setCarrierCallId(call.id, 'SW-1')).toMatchObject({ carrierCallId: 'SW-1' });
    // Once named it keeps its name.
    expect(await store.setCarrierCallId(call.id, 'SW-2')).toBeNull();
    expect((await store.findByCarrierCallId('signalwire', 'SW-1'))?.id).toBe(call.id);
  });

  it('never moves a call backwards, whatever order the callbacks arrive in', async () => {
    const callbacks: [CallStatus, number][] = [
      ['queued', 0],
      ['initiated', 1],
      ['ringing', 2],
      ['in-progress', 5],
      ['completed', 65],
    ];
    for (let seed = 1; seed <= 12; seed++) {
      const sid = `CA-shuffle-${seed}`;
      await store.create({ carrier: 'twilio', carrierCallId: sid, direction: 'outbound', fromNumber: '+1', toNumber: '+2' });
      const rand = prng(seed);
      // Every callback delivered twice (carriers retry), in a random order.
      const order = shuffle([...callbacks, ...callbacks], rand);
      const seen: CallStatus[] = [];
      for (const [status, s] of order) {
        const r = await store.applyStatus('twilio', sid, status, at(s));
        expect(r).not.toBeNull();
        seen.push(r?.call.status as CallStatus);
      }
      const call = await store.findByCarrierCallId('twilio', sid);
      expect(call, `seed ${seed}`).toMatchObject({ status: 'completed', answeredAt: at(5).toISOString(), endedAt: at(65).toISOString() });
      // The status a caller observed never went down.
      const rank = (s: CallStatus): number => ['queued', 'initiated', 'ringing', 'in-progress'].indexOf(s) + (s === 'completed' ? 5 : 0);
      for (let i = 1; i < seen.length; i++) expect(rank(seen[i] as CallStatus), `seed ${seed}`).toBeGreaterThanOrEqual(rank(seen[i - 1] as CallStatus));
    }
  });

  it('keeps the first terminal status even when callbacks race on many connections', async () => {
    const sid = 'CA-race-status';
    await store.create(inbound(sid));
    const statuses: CallStatus[] = ['ringing', 'in-progress', 'busy', 'completed', 'in-progress', 'ringing', 'no-answer', 'failed'];
    const results = await Promise.all(statuses.map((s, i) => store.applyStatus('twilio', sid, s, at(i))));
    // A change that made the call terminal (a late in-progress may still fill answeredAt of a
    // completed call: that change is not a status change).
    const terminalChanges = results.filter((r, i) => r?.changed === true && r.call.status === statuses[i] && ['busy', 'completed', 'no-answer', 'failed'].includes(r.call.status));
    expect(terminalChanges).toHaveLength(1);
    const final = await store.findByCarrierCallId('twilio', sid);
    expect(final?.status).toBe(terminalChanges[0]?.call.status);
    // A later terminal callback changes nothing.
    const late = await store.applyStatus('twilio', sid, final?.status === 'busy' ? 'completed' : 'busy', at(100));
    expect(late).toMatchObject({ changed: false, call: { status: final?.status, endedAt: final?.endedAt } });
  });

  it('fills answeredAt from an in-progress callback that arrives after completed', async () => {
    await store.create(inbound('CA-late'));
    await store.applyStatus('twilio', 'CA-late', 'completed', at(30));
    const r = await store.applyStatus('twilio', 'CA-late', 'in-progress', at(3));
    expect(r).toMatchObject({ changed: true, call: { status: 'completed', answeredAt: at(3).toISOString(), endedAt: at(30).toISOString() } });
    // ...but not for a call that never connected.
    await store.create(inbound('CA-busy'));
    await store.applyStatus('twilio', 'CA-busy', 'busy', at(4));
    expect(await store.applyStatus('twilio', 'CA-busy', 'in-progress', at(3))).toMatchObject({ changed: false, call: { answeredAt: null } });
  });

  it('rejects unknown statuses and reports unknown calls as null', async () => {
    await expect(store.applyStatus('twilio', 'CA-x', 'on-hold', at(0))).rejects.toMatchObject({ code: 'GW_ERR_STORE_UNKNOWN_STATUS', statusCode: 400 });
    expect(await store.applyStatus('twilio', 'CA-nobody', 'ringing', at(0))).toBeNull();
  });

  it('ends a call once: first reason and first terminal status win', async () => {
    const { call } = await store.create(inbound('CA-end'));
    await store.applyStatus('twilio', 'CA-end', 'in-progress', at(1));
    const ended = await store.end({ id: call.id }, 'flow-hangup', 'completed', at(20));
    expect(ended).toMatchObject({ status: 'completed', endReason: 'flow-hangup', endedAt: at(20).toISOString() });
    const again = await store.end({ carrier: 'twilio', carrierCallId: 'CA-end' }, 'stream-stopped', 'failed', at(25));
    expect(again).toMatchObject({ status: 'completed', endReason: 'flow-hangup', endedAt: at(20).toISOString() });
    // The carrier's terminal status came first: end() keeps it and adds the reason.
    await store.create(inbound('CA-end2'));
    await store.applyStatus('twilio', 'CA-end2', 'no-answer', at(30));
    expect(await store.end({ carrier: 'twilio', carrierCallId: 'CA-end2' }, 'timeout', 'completed', at(31))).toMatchObject({
      status: 'no-answer',
      endReason: 'timeout',
      endedAt: at(30).toISOString(),
    });
    await expect(store.end({ id: call.id }, 'x', 'ringing' as 'completed')).rejects.toMatchObject({ code: 'GW_ERR_STORE_NOT_TERMINAL' });
    expect(await store.end({ id: 'missing' }, 'x')).toBeNull();
  });

  it('attaches the stream, AMD outcome and recording by either key', async () => {
    const { call } = await store.create(inbound('CA-amd'));
    expect(await store.attachStream({ carrier: 'twilio', carrierCallId: 'CA-amd' }, 'MZ1')).toMatchObject({ streamId: 'MZ1' });
    expect(await store.setAmd({ id: call.id }, { result: 'machine', answeredBy: 'machine_end_beep', confidence: 0.93, decisionMs: 2750.4 })).toMatchObject({
      amdResult: 'machine',
      amdAnsweredBy: 'machine_end_beep',
      amdConfidence: 0.93,
      amdDecisionMs: 2750,
    });
    expect(await store.setRecording({ id: call.id }, 'recordings/CA-amd.wav')).toMatchObject({ recordingPath: 'recordings/CA-amd.wav' });
    expect(await store.attachStream({ id: 'missing' }, 'MZ2')).toBeNull();
  });

  it("records a stream's start and its answer in one write, as applyStatus('in-progress') would", async () => {
    const ringing = (await store.create(inbound('CA-start'))).call;
    expect(await store.startStream(ringing.id, 'MZ-start', at(5))).toMatchObject({ streamId: 'MZ-start', status: 'in-progress', answeredAt: at(5).toISOString() });
    // Again (a retried write): the first answer time stays.
    expect(await store.startStream(ringing.id, 'MZ-start', at(9))).toMatchObject({ status: 'in-progress', answeredAt: at(5).toISOString() });
    // A call the carrier already completed keeps its status and gets its answer time.
    const completed = (await store.create(inbound('CA-done'))).call;
    await store.applyStatus('twilio', 'CA-done', 'completed', at(20));
    expect(await store.startStream(completed.id, 'MZ-done', at(6))).toMatchObject({ status: 'completed', answeredAt: at(6).toISOString(), streamId: 'MZ-done' });
    // A call that was busy was never answered.
    const busy = (await store.create(inbound('CA-busy'))).call;
    await store.applyStatus('twilio', 'CA-busy', 'busy', at(20));
    expect(await store.startStream(busy.id, 'MZ-busy', at(6))).toMatchObject({ status: 'busy', answeredAt: null });
    expect(await store.startStream('missing', 'MZ-x', at(6))).toBeNull();
  });

  it("writes concurrent calls' stream starts, flows, AMD verdicts and ends in one statement each, each settling on its own", async () => {
    const statements: string[] = [];
    const counted = {
      query: ((text: string, values?: unknown[]) => {
        statements.push(text);
        return t.db.pool.query(text, values);
      }) as typeof t.db.pool.query,
    };
    const batched = new CallStore(counted, { instanceId: 'batching', batchWindowMs: 30 });
    const calls = await Promise.all(['CA-b1', 'CA-b2', 'CA-b3'].map(async (sid) => (await store.create(inbound(sid))).call));
    statements.length = 0;
    const started = await Promise.all([...calls.map((c, i) => batched.startStream(c.id, `MZ-b${i}`, at(i))), batched.startStream('missing', 'MZ-none', at(0))]);
    expect(statements).toHaveLength(1);
    expect(started.map((c) => c && [c.streamId, c.status, c.answeredAt, c.instanceId])).toEqual([
      ['MZ-b0', 'in-progress', at(0).toISOString(), 'batching'],
      ['MZ-b1', 'in-progress', at(1).toISOString(), 'batching'],
      ['MZ-b2', 'in-progress', at(2).toISOString(), 'batching'],
      null,
    ]);
    statements.length = 0;
    const [c1, c2, c3] = calls as [CallRecord, CallRecord, CallRecord];
    const flows = await Promise.all([batched.setFlow({ id: c1.id }, 'welcome', 3), batched.setFlow({ id: c2.id }, 'ivr', null), batched.setFlow({ id: 'missing' }, 'x', 1)]);
    expect(statements).toHaveLength(1);
    expect(flows.map((c) => c && [c.id, c.flowId, c.flowVersion])).toEqual([[c1.id, 'welcome', 3], [c2.id, 'ivr', null], null]);
    statements.length = 0;
    const verdicts = await Promise.all([
      batched.setAmd({ id: c1.id }, { result: 'human', answeredBy: 'human', confidence: 0.8, decisionMs: 1200.2 }),
      batched.setAmd({ id: c2.id }, { result: 'machine', answeredBy: 'machine_start', confidence: 0.7, decisionMs: 2300 }),
      // The same call twice in one window: its last word is what the record keeps, for both.
      batched.setAmd({ id: c3.id }, { result: 'human', answeredBy: 'human', confidence: 0.6, decisionMs: 900 }),
      batched.setAmd({ id: c3.id }, { result: 'machine', answeredBy: 'machine_end_beep', confidence: 0.9, decisionMs: 4100 }),
    ]);
    expect(statements).toHaveLength(1);
    expect(verdicts.map((c) => c && [c.id, c.amdResult, c.amdDecisionMs])).toEqual([
      [c1.id, 'human', 1200],
      [c2.id, 'machine', 2300],
      [c3.id, 'machine', 4100],
      [c3.id, 'machine', 4100],
    ]);
    // Ends: the first end reason and terminal status win, also for a call ended twice in one window.
    statements.length = 0;
    const ends = await Promise.all([
      batched.end({ id: c1.id }, 'caller_hung_up', 'completed', at(30)),
      batched.end({ id: c2.id }, 'first', 'failed', at(31)),
      batched.end({ id: c2.id }, 'second', 'completed', at(32)),
    ]);
    expect(statements).toHaveLength(1);
    expect(ends.map((c) => c && [c.id, c.status, c.endReason, c.endedAt])).toEqual([
      [c1.id, 'completed', 'caller_hung_up', at(30).toISOString()],
      [c2.id, 'failed', 'first', at(31).toISOString()],
      [c2.id, 'failed', 'first', at(31).toISOString()],
    ]);
    // A row the database refuses (amd_result's CHECK) fails alone: the others are written one by one.
    statements.length = 0;
    const mixed = await Promise.allSettled([
      batched.setAmd({ id: c1.id }, { result: 'fax', answeredBy: 'fax', confidence: 1, decisionMs: 700 }),
      batched.setAmd({ id: c2.id }, { result: 'robot' as 'fax', answeredBy: 'unknown', confidence: 1, decisionMs: 700 }),
    ]);
    expect(mixed[0]).toMatchObject({ status: 'fulfilled', value: { amdResult: 'fax' } });
    expect(mixed[1]).toMatchObject({ status: 'rejected', reason: { code: '23514' } });
    expect(statements).toHaveLength(3);
    expect((await store.get(c2.id))?.amdResult).toBe('machine');
  });

  describe('list', () => {
    // 30 calls; every third pair shares a created_at so the id tie-break is exercised.
    async function seed(): Promise<CallRecord[]> {
      const out: CallRecord[] = [];
      for (let i = 0; i < 30; i++) {
        const { call } = await store.create({
          id: `call-${String(i).padStart(2, '0')}`,
          carrier: i % 2 === 0 ? 'twilio' : 'signalwire',
          carrierCallId: `C${i}`,
          direction: i % 3 === 0 ? 'outbound' : 'inbound',
          fromNumber: i % 5 === 0 ? '+15551110000' : `+1555000${String(i).padStart(4, '0')}`,
          toNumber: i % 7 === 0 ? '+15551110000' : '+15559990000',
          status: i % 4 === 0 ? 'completed' : 'in-progress',
          createdAt: at(Math.floor(i / 2) * 10),
        });
        out.push(call);
      }
      // Newest first; equal created_at → larger id first.
      return out.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    }

    async function all(filter: Parameters<CallStore['list']>[0], pageSize: number): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ ...filter, limit: pageSize, ...(cursor === undefined ? {} : { cursor }) });
        pages++;
        ids.push(...page.calls.map((c) => c.id));
        cursor = page.nextCursor ?? undefined;
        expect(pages).toBeLessThan(100);
      } while (cursor !== undefined);
      return { ids, pages };
    }

    it('pages newest first through every call exactly once', async () => {
      const expected = await seed();
      const { ids, pages } = await all({}, 7);
      expect(ids).toEqual(expected.map((c) => c.id));
      expect(pages).toBe(5);
      const exact = await all({}, 10);
      expect(exact.pages).toBe(3);
      const first = await store.list();
      expect(first.calls).toHaveLength(30);
      expect(first.nextCursor).toBeNull();
    });

    it('stays stable when newer calls arrive between pages', async () => {
      const expected = await seed();
      const page1 = await store.list({ limit: 10 });
      await store.create({ id: 'call-new', carrier: 'twilio', carrierCallId: 'Cnew', direction: 'inbound', fromNumber: '+1', toNumber: '+2', createdAt: at(10_000) });
      const page2 = await store.list({ limit: 10, cursor: page1.nextCursor ?? '' });
      expect([...page1.calls, ...page2.calls].map((c) => c.id)).toEqual(expected.slice(0, 20).map((c) => c.id));
    });

    it('filters by status, direction, number (either party) and time range', async () => {
      const calls = await seed();
      const ids = (pred: (c: CallRecord) => boolean): string[] => calls.filter(pred).map((c) => c.id);
      expect((await all({ status: 'completed' }, 3)).ids).toEqual(ids((c) => c.status === 'completed'));
      expect((await all({ status: ['completed', 'in-progress'] }, 50)).ids).toHaveLength(30);
      expect((await all({ direction: 'outbound' }, 4)).ids).toEqual(ids((c) => c.direction === 'outbound'));
      const byNumber = (await all({ number: '+15551110000' }, 2)).ids;
      expect(byNumber).toEqual(ids((c) => c.fromNumber === '+15551110000' || c.toNumber === '+15551110000'));
      expect(byNumber.length).toBeGreaterThan(6);
      const since = at(50);
      const until = at(100);
      expect((await all({ since, until }, 3)).ids).toEqual(ids((c) => c.createdAt >= since.toISOString() && c.createdAt < until.toISOString()));
      expect((await all({ direction: 'inbound', status: 'completed', since }, 2)).ids).toEqual(
        ids((c) => c.direction === 'inbound' && c.status === 'completed' && c.createdAt >= since.toISOString()),
      );
      expect((await store.list({ number: '+10000000000' })).calls).toEqual([]);
    });

    it('validates limit and cursor', async () => {
      await expect(store.list({ limit: 101 })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_LIMIT', statusCode: 400 });
      await expect(store.list({ limit: 0 })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_LIMIT' });
      await expect(store.list({ limit: 2.5 })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_LIMIT' });
      await expect(store.list({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_CURSOR', statusCode: 400 });
      await expect(store.list({ cursor: Buffer.from('[1,2]').toString('base64url') })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_CURSOR' });
      await expect(store.list({ status: 'bogus' as CallStatus })).rejects.toMatchObject({ code: 'GW_ERR_STORE_UNKNOWN_STATUS' });
      await expect(store.list({ since: new Date('not a date') })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_RANGE', statusCode: 400 });
      expect((await store.list({ limit: 100 })).calls).toEqual([]);
    });
  });
});
