// Pacing: the GCRA slots and the ramp (pure), and two gateway processes on one PostgreSQL running one
// 500-contact campaign against the simulator: no number dialed twice (from the simulator's log), the
// global calls/min limit held (measured), and kill -9 of one process mid-run losing and repeating nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { effectivePerMinute, gcraAllowance } from '../../src/campaign/dialQueue.ts';
import { defaultSettings } from '../../src/campaign/settings.ts';
import { startSimulator, type Simulator } from '../../src/sim/server.ts';
import { createPostgresDatabase, testDatabases, type ScratchPostgres } from '../helpers/db.ts';
import { ACCOUNT_SID, AUTH_TOKEN, CAMPAIGN_FLOW, middayZone, waitFor } from './harness.ts';

describe('pacing arithmetic', () => {
  it('GCRA lets one dial per interval, and at most a second of burst after idling', () => {
    const now = new Date(1_000_000);
    expect(gcraAllowance(new Date(1_000_500), now, 100).allowed).toBe(0);
    expect(gcraAllowance(new Date(1_000_000), now, 100).allowed).toBe(1);
    // Idle for a minute: only a second's worth (10 at 100 ms) plus the current slot.
    const idle = gcraAllowance(new Date(940_000), now, 100);
    expect(idle.allowed).toBe(11);
    expect(idle.advance(3).getTime()).toBe(999_000 + 300);
    expect(idle.advance(0).getTime()).toBe(940_000);
  });

  it('the ramp rises linearly from its start rate to callsPerMinute', () => {
    const s = defaultSettings();
    s.pacing = { maxConcurrent: 5, callsPerMinute: 60, callsPerHour: 1000, ramp: { fromPerMinute: 10, overMinutes: 10 } };
    const started = new Date(0);
    expect(effectivePerMinute(s, started, new Date(0))).toBe(10);
    expect(effectivePerMinute(s, started, new Date(5 * 60_000))).toBe(35);
    expect(effectivePerMinute(s, started, new Date(60 * 60_000))).toBe(60);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Child {
  proc: ChildProcess;
  url: string;
  dir: string;
  output: string[];
}

async function startGatewayProcess(env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-campaign-child-'));
  const root = path.resolve(import.meta.dirname, '../..');
  const proc = spawn(process.execPath, [path.join(root, 'src/main.ts')], { cwd: root, env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  proc.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`gateway on ${port}`, async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok ? true : undefined), 60_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${output.join('').slice(-2000)}`);
  });
  return { proc, url, dir, output };
}

const postgresOnly = testDatabases().filter((k) => k === 'postgres');

describe.each(postgresOnly)('two gateway processes on one %s', () => {
  const children: Child[] = [];
  let sim: Simulator | undefined;
  let db: ScratchPostgres | undefined;
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await sim?.close();
    await db?.drop();
    for (const c of children) await rm(c.dir, { recursive: true, force: true });
  });

  it('run one 500-contact campaign: no double dial, global calls/min held, kill -9 loses and repeats nothing', async () => {
    db = await createPostgresDatabase();
    sim = await startSimulator({
      accounts: { [ACCOUNT_SID]: AUTH_TOKEN },
      speed: 20,
      scenario: { rules: [{ match: '+14155551*', kind: 'human' }, { match: '+14155552*', kind: 'no-answer' }], default: { kind: 'busy', ringMs: 400 } },
    });
    const apiKey = randomBytes(24).toString('hex');
    const env = {
      DATABASE_URL: db.url,
      // Two gateway processes of one worker each (with PostgreSQL, WORKERS defaults to the cores).
      WORKERS: '1',
      PUBLIC_URL: 'https://gateway.test',
      API_KEY: apiKey,
      STREAM_TOKEN_SECRET: randomBytes(32).toString('hex'),
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_BASE_URL: sim.baseUrl,
      LOG_LEVEL: 'warn',
      CAMPAIGN_TICK_MS: '50',
      CAMPAIGN_STALE_CLAIM_MS: '2000',
      CARRIER_CALLS_PER_SECOND: '100',
    };
    const a = await startGatewayProcess(env);
    children.push(a);
    const b = await startGatewayProcess(env);
    children.push(b);
    sim.setDeliverTo([a.url, b.url]);
    const api = async (base: string, pathname: string, init: { method?: string; body?: unknown; csv?: string } = {}) => {
      const res = await fetch(`${base}${pathname}`, {
        method: init.method ?? (init.body === undefined && init.csv === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${apiKey}`, ...(init.csv !== undefined ? { 'content-type': 'text/csv' } : init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: init.csv ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
      });
      return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies
    };
    expect((await api(a.url, '/v1/flows', { body: CAMPAIGN_FLOW })).status).toBeLessThan(300);
    const perMinute = 1200;
    const created = await api(a.url, '/v1/campaigns', {
      body: {
        name: 'two instances',
        flowId: 'campaign-test',
        callerIds: ['+14155550100'],
        timezone: 'UTC',
        window: { start: '00:00', end: '24:00' },
        pacing: { maxConcurrent: 40, callsPerMinute: perMinute, callsPerHour: 100_000 },
        retries: { noAnswer: { maxAttempts: 1, delayS: 1 }, busy: { maxAttempts: 1, delayS: 1 }, failed: { maxAttempts: 1, delayS: 1 } },
        abandonRateLimit: 100,
        ringTimeoutS: 5,
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // The legal 08:00–21:00 always applies: give every contact a zone where it is now mid-day.
    const zone = middayZone();
    const rows = ['phone,timezone'];
    for (let i = 0; i < 500; i++) {
      const group = i < 60 ? 1 : i < 160 ? 2 : 3; // 60 people, 100 no-answer, 340 busy
      rows.push(`+1415555${group}${String(i).padStart(3, '0')},${zone}`);
    }
    const imported = await api(a.url, `/v1/campaigns/${id}/contacts`, { csv: rows.join('\n') });
    expect(imported.body).toMatchObject({ accepted: 500, invalid: 0 });
    expect((await api(b.url, `/v1/campaigns/${id}/start`, { method: 'POST' })).status).toBe(200);

    await waitFor('a third of the dials', async () => (sim!.log.length >= 170 ? true : undefined), 120_000);
    a.proc.kill('SIGKILL');
    const killedAt = sim.log.length;

    let lastStats: unknown;
    const final = await waitFor('every contact settled', async () => {
      const s = await api(b.url, `/v1/campaigns/${id}/stats`);
      lastStats = s.body;
      const settled = (s.body.contacts.done ?? 0) + (s.body.contacts.review ?? 0);
      return settled === 500 && s.body.inFlight === 0 ? s.body : undefined;
    }, 240_000).catch(async (err: unknown) => {
      const open = (await api(b.url, `/v1/campaigns/${id}/contacts?state=dialing&limit=5`)).body.contacts as Array<{ id: string }>;
      const detail = await Promise.all(open.map(async (c) => (await api(b.url, `/v1/campaigns/${id}/contacts/${c.id}`)).body));
      throw new Error(`${(err as Error).message}\nstats ${JSON.stringify(lastStats)}\nopen ${JSON.stringify(detail).slice(0, 3000)}\nsim ${JSON.stringify([...sim!.calls.values()].filter((c) => !['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(c.status)).map((c) => [c.to, c.status, c.error]))}`);
    });

    // No number dialed twice, by either process, before or after the kill.
    const perNumber = new Map<string, number>();
    for (const d of sim.log) perNumber.set(d.to, (perNumber.get(d.to) ?? 0) + 1);
    expect([...perNumber.values()].filter((n) => n > 1)).toEqual([]);
    // Nothing lost: every contact was dialed once, except claims the dead process may have sent
    // without learning the carrier's answer — those wait for review and are never redialed.
    const review = final.contacts.review ?? 0;
    expect(perNumber.size).toBeGreaterThanOrEqual(500 - review);
    expect(review).toBeLessThanOrEqual(40);
    expect(final.state).toBe('completed');
    // Both processes dialed (attempts record their instance).
    const { rows: byInstance } = await (async () => {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return await client.query<{ instance_id: string; n: string }>('SELECT instance_id, count(*) AS n FROM campaign_attempts WHERE campaign_id = $1 GROUP BY instance_id', [id]);
      } finally {
        await client.end();
      }
    })();
    expect(byInstance.length).toBe(2);

    // The global limit, measured from the simulator's clock: the mean rate over the run, and no
    // three-second window above three seconds' worth plus one second of burst — with 15 % for the
    // jitter of the requests between the claim (where pacing is decided) and the carrier.
    const times = sim.log.map((d) => d.atMs);
    const first = times[0] ?? 0;
    const last = times.at(-1) ?? 0;
    const measuredPerMinute = ((times.length - 1) / (last - first)) * 60_000;
    let worst = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] ?? 0) - (times[j] ?? 0) > 3000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    console.log(JSON.stringify({ dials: times.length, killedAt, review, askedPerMinute: perMinute, measuredPerMinute: Math.round(measuredPerMinute), worst3sWindow: worst }));
    expect(measuredPerMinute).toBeLessThanOrEqual(perMinute * 1.05);
    expect(worst).toBeLessThanOrEqual(((perMinute / 60) * 4 + 1) * 1.15);
  }, 400_000);
});
