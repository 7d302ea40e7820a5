// The dialer at rest on a database only this process uses (embedded PGlite, where every query is the
// gateway's own CPU): with no running campaign and no attempt outstanding it stops asking the database
// every second, and a campaign started through this process (which wakes it) is still dialed at once.
// On a shared database it does the same once the change feed listens: a campaign started by another
// process is announced (migration 010) and dialed at once, and a lost announcement only delays it to
// the slow poll.
import pg from 'pg';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CampaignEngine, type CampaignEngineDeps } from '../../src/campaign/engine.ts';
import { importJson } from '../../src/campaign/import.ts';
import { defaultSettings } from '../../src/campaign/settings.ts';
import { CampaignStore } from '../../src/campaign/store.ts';
import { startSimulator, type Simulator } from '../../src/sim/server.ts';
import { CallStore } from '../../src/store/calls.ts';
import { CarrierRestClient } from '../../src/telephony/rest.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';
import { ACCOUNT_SID, AUTH_TOKEN, middayZone, waitFor } from './harness.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(testDatabases())('campaign dialer at rest (%s)', (kind) => {
  let t: TestDatabase;
  let sim: Simulator;
  let engine: CampaignEngine | undefined;
  beforeEach(async () => {
    t = await openTestDatabase(kind);
    sim = await startSimulator({ accounts: { [ACCOUNT_SID]: AUTH_TOKEN }, speed: 50 });
  });
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
    await sim.close();
    await t.cleanup();
  });

  /** The test database's pool, counting the queries made through it. */
  const countingPool = (): { pool: pg.Pool; count: () => number } => {
    let n = 0;
    const real = t.db.pool;
    const query = (text: string, values?: unknown[]): Promise<pg.QueryResult> => {
      n++;
      return real.query(text, values);
    };
    const pool = new Proxy(real, { get: (target, prop) => (prop === 'query' ? query : Reflect.get(target, prop)) });
    return { pool, count: () => n };
  };

  const startEngine = (pool: pg.Pool, exclusive: boolean, more: Partial<CampaignEngineDeps> = {}): CampaignEngine => {
    const client = new CarrierRestClient({ carrier: 'twilio', accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, baseUrl: sim.baseUrl, timeoutMs: 2000 });
    engine = new CampaignEngine({
      pool,
      calls: new CallStore(t.db.pool),
      clients: { twilio: client },
      config: { publicUrl: new URL('https://gateway.test'), carriers: { twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl: sim.baseUrl } } },
      instanceId: 'only-one',
      log: pino({ level: 'silent' }),
      accountCps: 100,
      tickMs: 50,
      streamTokenSecret: 's'.repeat(32),
      exclusive,
      ...more,
    });
    engine.start();
    return engine;
  };

  it('asks nothing while nothing runs, and dials a campaign started here at once', async () => {
    const counted = countingPool();
    const e = startEngine(counted.pool, true);
    await sleep(600);
    const atRest = counted.count();
    expect(atRest).toBeGreaterThan(0); // its first tick looked
    await sleep(1500);
    expect(counted.count()).toBe(atRest);

    const store = new CampaignStore(t.db.pool);
    const settings = { ...defaultSettings(), callerIds: ['+14155550100'], timezone: middayZone(), pacing: { maxConcurrent: 10, callsPerMinute: 600, callsPerHour: 10000, ramp: null } };
    const campaign = await store.create({ name: 'at rest', flowId: 'campaign-test', flowVersion: null, carrier: 'twilio', settings }, 'test');
    await importJson(t.db.pool, [{ phone: '+12125550106', timezone: middayZone() }], { campaignId: campaign.id, defaultCountry: 'US', campaignTimezone: middayZone() });
    await store.transition(campaign.id, 'start', 'test');
    const woken = performance.now();
    e.wake();
    await waitFor('the started campaign dialed', async () => (sim.log.length > 0 ? true : undefined), 5000);
    expect(performance.now() - woken).toBeLessThan(2000);
  });

  /** A running campaign with one contact due, started by "another process" (no wake() here). */
  const startCampaignElsewhere = async (phone: string): Promise<void> => {
    const store = new CampaignStore(t.db.pool);
    const settings = { ...defaultSettings(), callerIds: ['+14155550100'], timezone: middayZone(), pacing: { maxConcurrent: 10, callsPerMinute: 600, callsPerHour: 10000, ramp: null } };
    const campaign = await store.create({ name: 'elsewhere', flowId: 'campaign-test', flowVersion: null, carrier: 'twilio', settings }, 'test');
    await importJson(t.db.pool, [{ phone, timezone: middayZone() }], { campaignId: campaign.id, defaultCountry: 'US', campaignTimezone: middayZone() });
    await store.transition(campaign.id, 'start', 'test');
  };

  it('on a shared database with the change feed it rests too, and a campaign started elsewhere is dialed at once', async () => {
    const counted = countingPool();
    startEngine(counted.pool, false, { changes: t.db.changes });
    await t.db.changes.ready();
    // Its first tick ran before the feed listened: the tick after it (a second later) may sleep.
    await sleep(1700);
    const atRest = counted.count();
    await sleep(1500);
    expect(counted.count()).toBe(atRest);

    const started = performance.now();
    await startCampaignElsewhere('+12125550107');
    await waitFor('the campaign started elsewhere dialed', async () => (sim.log.length > 0 ? true : undefined), 5000);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a lost announcement only delays a campaign to the slow poll', async () => {
    const counted = countingPool();
    // A feed that listens but never delivers: every notification is lost.
    const deaf = { subscribe: () => () => undefined, ready: () => Promise.resolve() };
    startEngine(counted.pool, false, { changes: deaf, dormantTickMs: 1500 });
    await sleep(1700);
    const atRest = counted.count();
    await sleep(1000);
    expect(counted.count()).toBeLessThanOrEqual(atRest + 1); // at most the slow poll's one query

    await startCampaignElsewhere('+12125550108');
    await waitFor('the campaign dialed by the slow poll', async () => (sim.log.length > 0 ? true : undefined), 5000);
  });

  // A real lost announcement: the server drops the feed's LISTEN connection, the campaign is started while
  // nothing listens (its NOTIFY goes nowhere), and the feed cannot reconnect until the database takes
  // connections again. The resync after the reconnect must wake the dialer; the slow poll is set far
  // beyond the test so that it cannot be what dials.
  if (kind === 'postgres') {
  it('a dropped listening connection: the resync on reconnect dials what was started meanwhile', async () => {
    startEngine(t.db.pool, false, { changes: t.db.changes, dormantTickMs: 120_000 });
    await t.db.changes.ready();
    await sleep(1700); // dormant by now (see above)
    // Idle pooled connections for the campaign's own writes: no new connection can be opened below.
    await Promise.all([1, 2, 3, 4].map(() => t.db.pool.query('SELECT pg_sleep(0.05)')));
    const name = (await t.db.pool.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
    const listeners = async (): Promise<number[]> =>
      (await t.db.pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`)).rows.map((r) => r.pid);
    const [listener] = await listeners();
    expect(listener).toBeDefined();
    // Another database on the same server: a database cannot refuse connections from inside itself.
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    let unblocked = false;
    const unblock = async (): Promise<void> => {
      if (unblocked) return;
      unblocked = true;
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      await admin.end();
    };
    try {
      await t.db.pool.query('SELECT pg_terminate_backend($1)', [listener]);
      await waitFor('the feed saw its connection go', async () => (t.log.entries.some((e) => e.msg?.includes('change feed connection lost')) ? true : undefined), 5000);
      expect(await listeners()).toEqual([]);
      await startCampaignElsewhere('+12125550109');
      await sleep(800);
      expect(await listeners()).toEqual([]); // nothing was listening when it was announced
      expect(sim.log.length).toBe(0); // and nothing else woke the dialer
    } finally {
      await unblock();
    }
    const back = performance.now();
    await waitFor('the campaign dialed after the resync', async () => (sim.log.length > 0 ? true : undefined), 10_000);
    expect(t.log.entries.some((e) => e.msg?.includes('listening again'))).toBe(true);
    expect(performance.now() - back).toBeLessThan(8000); // the feed's backoff is capped at 5 s
  });
  }

  it('without exclusive use or a change feed it keeps looking every second', async () => {
    const counted = countingPool();
    startEngine(counted.pool, false);
    await sleep(600);
    const first = counted.count();
    await sleep(1500);
    expect(counted.count()).toBeGreaterThan(first);
  });
});
