// Crash reconciliation (issue 9, finding 2): calls owned by an instance whose heartbeat stopped are
// closed as gateway_lost by a live instance — once, even with several reconciling at the same moment —
// their carrier calls hung up, their timelines ended, and the registered handlers told.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallStore } from '../../src/store/calls.ts';
import { EventLog } from '../../src/store/eventLog.ts';
import type { Queryable } from '../../src/store/db.ts';
import { GATEWAY_LOST, InstanceMonitor } from '../../src/store/instances.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

describe.each(testDatabases())('instances on %s', (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => t.cleanup());

  const lostInstance = async (id: string, heartbeatAgo = '1 hour'): Promise<void> => {
    await t.db.pool.query(`INSERT INTO gateway_instances (id, host, pid, heartbeat_at) VALUES ($1, 'crashed-host', 4242, now() - $2::interval)`, [id, heartbeatAgo]);
  };

  it('closes the calls a lost instance left open as gateway_lost, hangs them up, ends their timelines, once', async () => {
    await lostInstance('crashed');
    const owned = new CallStore(t.db.pool, { instanceId: 'crashed' });
    const live = (await owned.create({ carrier: 'twilio', carrierCallId: 'CA-live', direction: 'inbound', fromNumber: '+14155550100', toNumber: '+14155550199' })).call;
    await owned.applyStatus('twilio', 'CA-live', 'in-progress', new Date());
    const ringing = (await owned.create({ carrier: 'signalwire', carrierCallId: 'sw-ringing', direction: 'inbound', fromNumber: '+14155550100', toNumber: '+14155550199' })).call;
    const done = (await owned.create({ carrier: 'twilio', carrierCallId: 'CA-done', direction: 'inbound', fromNumber: '+14155550100', toNumber: '+14155550199' })).call;
    await owned.end({ id: done.id }, 'caller_hung_up');
    const others = new CallStore(t.db.pool, { instanceId: 'someone-else' });
    const elsewhere = (await others.create({ carrier: 'twilio', carrierCallId: 'CA-other', direction: 'inbound', fromNumber: '+1', toNumber: '+2' })).call;
    // The crashed instance had written part of the live call's timeline.
    const events = new EventLog({ db: t.db.pool });
    events.append(live.id, { type: 'call.started', atMs: 0, carrier: 'twilio', streamId: 'MZ1', carrierCallId: 'CA-live', mediaFormat: 'audio/x-mulaw@8000' });
    events.append(live.id, { type: 'speech.started', atMs: 400 });
    await events.close();

    const hungUp: string[] = [];
    const lost: string[] = [];
    const monitor = new InstanceMonitor({ db: t.db.pool, log: t.log, instanceId: 'survivor', hangup: async (_carrier, sid) => void hungUp.push(sid) });
    monitor.onInstanceLost(async (id) => void lost.push(id));
    const reports = await monitor.reconcileNow();
    expect(reports).toEqual([{ instanceId: 'crashed', callsClosed: 2, carrierHangups: 2, hangupFailures: 0 }]);
    expect(hungUp.sort()).toEqual(['CA-live', 'sw-ringing']);
    expect(lost).toEqual(['crashed']);

    expect(await owned.get(live.id)).toMatchObject({ status: 'completed', endReason: GATEWAY_LOST });
    expect((await owned.get(live.id))?.endedAt).not.toBeNull();
    expect(await owned.get(ringing.id)).toMatchObject({ status: 'failed', endReason: GATEWAY_LOST });
    expect(await owned.get(done.id)).toMatchObject({ status: 'completed', endReason: 'caller_hung_up' }); // nothing else changed
    expect(await others.get(elsewhere.id)).toMatchObject({ status: 'ringing', endReason: null });
    const timeline = await new EventLog({ db: t.db.pool }).listEvents(live.id);
    expect(timeline.map((e) => [e.seq, e.type])).toEqual([
      [1, 'call.started'],
      [2, 'speech.started'],
      [3, 'call.ended'],
    ]);
    expect(timeline[2]).toMatchObject({ reason: GATEWAY_LOST, instanceId: 'crashed' });

    // Done once: a second pass finds nothing.
    expect(await monitor.reconcileNow()).toEqual([]);
    expect(lost).toEqual(['crashed']);
  });

  it('never reconciles a live instance, and reconciles each lost one once when several instances race', async () => {
    await lostInstance('alive', '1 second');
    for (const id of ['lost-1', 'lost-2', 'lost-3']) {
      await lostInstance(id);
      await new CallStore(t.db.pool, { instanceId: id }).create({ carrier: 'twilio', carrierCallId: `CA-${id}`, direction: 'inbound', fromNumber: '+1', toNumber: '+2' });
    }
    await new CallStore(t.db.pool, { instanceId: 'alive' }).create({ carrier: 'twilio', carrierCallId: 'CA-alive', direction: 'inbound', fromNumber: '+1', toNumber: '+2' });
    const handled: string[] = [];
    const monitors = ['r1', 'r2', 'r3'].map((id) => {
      const m = new InstanceMonitor({ db: t.db.pool, log: t.log, instanceId: id, deadAfterMs: 15_000 });
      m.onInstanceLost(async (lost) => {
        await new Promise((r) => setTimeout(r, 20)); // campaign reconciliation takes a moment
        handled.push(lost);
      });
      return m;
    });
    const reports = (await Promise.all(monitors.map((m) => m.reconcileNow()))).flat();
    expect(reports.map((r) => r.instanceId).sort()).toEqual(['lost-1', 'lost-2', 'lost-3']);
    expect(handled.sort()).toEqual(['lost-1', 'lost-2', 'lost-3']);
    expect(reports.reduce((n, r) => n + r.callsClosed, 0)).toBe(3);
    const { rows } = await t.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM calls WHERE ended_at IS NULL`);
    expect(Number(rows[0]?.n)).toBe(1); // the live instance's call
  });

  it('a new instance registers its heartbeat and, with a short dead-after, reconciles a crashed one by itself', async () => {
    await lostInstance('crashed-earlier');
    await new CallStore(t.db.pool, { instanceId: 'crashed-earlier' }).create({ carrier: 'twilio', carrierCallId: 'CA-x', direction: 'inbound', fromNumber: '+1', toNumber: '+2' });
    const monitor = new InstanceMonitor({ db: t.db.pool, log: t.log, instanceId: 'fresh', heartbeatMs: 100, deadAfterMs: 300 });
    await monitor.start();
    try {
      const started = performance.now();
      while (monitor.counters.instancesReconciled === 0 && performance.now() - started < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(monitor.counters).toMatchObject({ instancesReconciled: 1, callsClosed: 1 });
      const { rows } = await t.db.pool.query<{ heartbeat_at: Date }>(`SELECT heartbeat_at FROM gateway_instances WHERE id = 'fresh'`);
      expect(Date.now() - (rows[0]?.heartbeat_at.getTime() ?? 0)).toBeLessThan(2000);
    } finally {
      await monitor.stop();
    }
    const { rows } = await t.db.pool.query<{ stopped_at: Date | null }>(`SELECT stopped_at FROM gateway_instances WHERE id = 'fresh'`);
    expect(rows[0]?.stopped_at).not.toBeNull();
  });
  it('on an exclusive database, reconciles an instance that was still fresh at start, then beats with one query', async () => {
    // A process killed a moment before this one started: its heartbeat is not yet dead-after old.
    await lostInstance('killed-just-now', '0 seconds');
    await new CallStore(t.db.pool, { instanceId: 'killed-just-now' }).create({ carrier: 'twilio', carrierCallId: 'CA-cut', direction: 'inbound', fromNumber: '+1', toNumber: '+2' });
    const queries: string[] = [];
    const counted: Queryable = {
      query: (text, values) => {
        queries.push(text.replace(/\s+/g, ' ').trim().slice(0, 40));
        return t.db.pool.query(text, values);
      },
    };
    const monitor = new InstanceMonitor({ db: counted, log: t.log, instanceId: 'restarted', heartbeatMs: 100, deadAfterMs: 600, exclusive: true });
    await monitor.start();
    try {
      const started = performance.now();
      while (monitor.counters.callsClosed === 0 && performance.now() - started < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(monitor.counters).toMatchObject({ instancesReconciled: 1, callsClosed: 1 });
      // Nothing is left to reconcile: later beats write the heartbeat and ask nothing else.
      await new Promise((r) => setTimeout(r, 200));
      const mark = queries.length;
      const beatsBefore = monitor.counters.heartbeats;
      await new Promise((r) => setTimeout(r, 500));
      const later = queries.slice(mark);
      expect(monitor.counters.heartbeats - beatsBefore).toBeGreaterThanOrEqual(3);
      expect(later.length).toBeGreaterThan(0);
      expect(later.every((q) => q.startsWith('INSERT INTO gateway_instances'))).toBe(true);
    } finally {
      await monitor.stop();
    }
    const { rows } = await t.db.pool.query<{ end_reason: string | null }>(`SELECT end_reason FROM calls WHERE carrier_call_id = 'CA-cut'`);
    expect(rows[0]?.end_reason).toBe(GATEWAY_LOST);
  });
});
