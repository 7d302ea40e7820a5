// A gateway wired to the carrier simulator: Twilio credentials whose REST base URL is the simulator,
// which delivers the signed webhooks, status callbacks and media streams back to the gateway.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/server.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import type { TestDatabaseKind } from '../helpers/db.ts';

export const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const AUTH_TOKEN = randomBytes(16).toString('hex');

/** A flow that greets a person (and records a disposition) and leaves a voicemail after the beep. */
export const CAMPAIGN_FLOW = {
  id: 'campaign-test',
  start: 'detect',
  nodes: {
    detect: { type: 'amd', timeoutMs: 8000, human: 'greet', machine: 'vm', unknown: 'greet' },
    // A recorded greeting: a person hears it at once (synthesis on a loaded machine could take longer
    // than the 2 s after which a live answer counts as abandoned — 400 ms of wall time at 5× speed).
    greet: { type: 'say', audio: 'greeting.wav', next: 'mark' },
    mark: { type: 'set', values: { disposition: 'reached' }, next: 'bye' },
    vm: { type: 'voicemail', text: 'Please call us back.', silenceMs: 1500, maxWaitMs: 20000 },
    bye: { type: 'hangup', reason: 'done' },
  },
};

export interface SimGateway {
  gw: TestGateway;
  sim: Simulator;
  close(): Promise<void>;
}

export async function startSimGateway(kind: TestDatabaseKind, opts: { sim?: Partial<SimulatorOptions>; env?: Record<string, string> } = {}): Promise<SimGateway> {
  // Sped up, the callee's patience shrinks in wall time while speech synthesis does not: a 30 s
  // (media) hold keeps a loaded test machine from hanging up on a message still being synthesized.
  const sim = await startSimulator({ accounts: { [ACCOUNT_SID]: AUTH_TOKEN }, speed: 5, holdMs: 30_000, ...opts.sim });
  const gw = await startTestGateway(kind, {
    env: {
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_BASE_URL: sim.baseUrl,
      HOST: '127.0.0.1',
      CAMPAIGN_TICK_MS: '50',
      CARRIER_CALLS_PER_SECOND: '50',
      ...opts.env,
    },
  });
  sim.setDeliverTo(gw.httpUrl);
  const created = await gw.api('/v1/flows', { body: CAMPAIGN_FLOW });
  if (created.status !== 201 && created.status !== 200) throw new Error(`flow deploy failed: ${JSON.stringify(created.body)}`);
  return {
    gw,
    sim,
    close: async () => {
      await gw.runtime.campaignEngine?.close();
      await sim.close();
      await gw.close();
    },
  };
}

/** Poll until `check` returns a value (not undefined), or fail after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POST a CSV body to the gateway's API. */
export async function postCsv(gw: TestGateway, pathname: string, csv: string): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON report
  const res = await fetch(`${gw.httpUrl}${pathname}`, { method: 'POST', headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'text/csv' }, body: csv });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** An Etc/GMT zone where it is now about 14:00 (inside every default calling window). */
export function middayZone(at = new Date()): string {
  const offset = ((14 - at.getUTCHours() + 36) % 24) - 12;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/**
 * One simulator-wired gateway for the tests of a describe block: started before them, closed after.
 * The handle reads through to the started one, so use it inside tests and hooks.
 */
export function simGatewayForSuite(kind: TestDatabaseKind, opts: Parameters<typeof startSimGateway>[1] = {}): SimGateway {
  let h: SimGateway | undefined;
  beforeAll(async () => {
    h = await startSimGateway(kind, opts);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });
  const started = (): SimGateway => {
    if (h === undefined) throw new Error("the suite's gateway is not started (use it inside a test or hook)");
    return h;
  };
  return {
    get gw() {
      return started().gw;
    },
    get sim() {
      return started().sim;
    },
    close: () => started().close(),
  };
}

/**
 * A fixed-offset zone whose local hour is now between `lo` and `hi`: contacts in it are inside their
 * calling window whatever the hour the tests run at (a +1415 number alone is in Los Angeles, whose
 * legal 08:00–21:00 window is closed for half of the UTC day).
 */
export function zoneWithLocalHour(lo: number, hi: number): string {
  const utcHour = new Date().getUTCHours();
  for (let offset = -10; offset <= 12; offset++) {
    const local = (((utcHour + offset) % 24) + 24) % 24;
    // Stay clear of the hour boundaries so the test cannot straddle an opening or closing.
    if (local >= lo && local <= hi && new Date().getUTCMinutes() < 50) return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  }
  for (let offset = -10; offset <= 12; offset++) {
    const local = (((utcHour + offset) % 24) + 24) % 24;
    if (local > lo && local < hi) return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  }
  throw new Error('no zone found');
}

/** A zone whose calling window is open now (local 10:00–18:00). */
export const openZone = (): string => zoneWithLocalHour(10, 18);
