// The change feed (LISTEN/NOTIFY) on both engines: writes to numbers, flows and departments are
// announced at once; on PostgreSQL to every instance, and after a lost listening connection the
// handlers are told to resynchronize; on PGlite (worker thread) notifications survive a recycled client.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.ts';
import { RESYNC, ROUTING_CHANNEL } from '../../src/store/changeFeed.ts';
import { FlowStore } from '../../src/store/flows.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

const flow = (id: string): FlowDefinition => ({ id, start: 'bye', nodes: { bye: { type: 'hangup', reason: 'done' } } }) as unknown as FlowDefinition;

function collector(): { got: string[]; waitFor(payload: string, ms?: number): Promise<number> } {
  const got: string[] = [];
  return {
    got,
    async waitFor(payload, ms = 3000) {
      const started = performance.now();
      while (!got.includes(payload)) {
        if (performance.now() - started > ms) throw new Error(`no "${payload}" within ${ms} ms (got ${JSON.stringify(got)})`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return performance.now() - started;
    },
  };
}

describe.each(testDatabases())('change feed on %s', (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => t.cleanup());

  it('announces writes to numbers, flows and departments as table:key', async () => {
    const c = collector();
    t.db.changes.subscribe(ROUTING_CHANNEL, (p) => c.got.push(p));
    await t.db.changes.ready();
    const store = new FlowStore(t.db.pool);
    await store.save(flow('welcome'));
    await store.setNumber('+14155550100', 'welcome', null);
    await store.putDepartment({ name: 'sales', numbers: ['+14155550111'], timeZone: 'UTC' });
    await store.deleteNumber('+14155550100');
    await c.waitFor('flows:welcome');
    await c.waitFor('numbers:+14155550100');
    await c.waitFor('departments:sales');
    // Set and deleted: two announcements (the second may still be on its way).
    const started = performance.now();
    while (c.got.filter((p) => p === 'numbers:+14155550100').length < 2 && performance.now() - started < 3000) await new Promise((r) => setTimeout(r, 5));
    expect(c.got.filter((p) => p === 'numbers:+14155550100').length).toBe(2);
  });

  if (kind === 'pglite') {
    it('keeps listening after a failed query recycles the single PGlite client', async () => {
      const c = collector();
      t.db.changes.subscribe(ROUTING_CHANNEL, (p) => c.got.push(p));
      await t.db.changes.ready();
      await expect(t.db.pool.query('SELECT * FROM no_such_table')).rejects.toThrow();
      await new FlowStore(t.db.pool).save(flow('after-error'));
      await c.waitFor('flows:after-error');
    });
  }

  if (kind === 'postgres') {
    it('reaches another instance within a second, and resynchronizes it after its listening connection is cut', async () => {
      const other: Database = await openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir, log: t.log, applicationName: 'other-instance' });
      try {
        const c = collector();
        other.changes.subscribe(ROUTING_CHANNEL, (p) => c.got.push(p));
        await other.changes.ready();
        await new FlowStore(t.db.pool).save(flow('shared'));
        const ms = await c.waitFor('flows:shared', 1000);
        expect(ms).toBeLessThan(1000);
        // The server drops the other instance's listening connection (restart, network cut).
        await t.db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'other-instance-changes'`);
        await c.waitFor(RESYNC, 10_000);
        await new FlowStore(t.db.pool).save(flow('after-cut'));
        await c.waitFor('flows:after-cut', 3000);
      } finally {
        await other.close();
      }
    }, 30_000);
  }
});
