// Issue 16 item 6: /readyz is unauthenticated, so it must not query the database on every request
// (PGlite's pool has one connection) nor show internals such as the event log's last error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe('/readyz', () => {
  let gw: TestGateway;
  let pings = 0;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
    const db = gw.runtime.appDeps.db;
    const ping = db.ping.bind(db);
    db.ping = (timeoutMs) => {
      pings++;
      return ping(timeoutMs);
    };
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('answers a burst from one database check, cached about a second, with no internals', async () => {
    const before = pings;
    const burst = await Promise.all(Array.from({ length: 20 }, () => fetch(`${gw.httpUrl}/readyz`)));
    const answeredAt = performance.now();
    expect(burst.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(pings - before).toBe(1);
    // Within the second after that check, more probes (however many the machine manages) reuse it.
    let probes = 0;
    while (performance.now() - answeredAt < 500) {
      expect(await (await fetch(`${gw.httpUrl}/readyz`)).json()).toEqual({ status: 'ready' });
      probes++;
    }
    expect(probes).toBeGreaterThan(0);
    expect(pings - before).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    await fetch(`${gw.httpUrl}/readyz`);
    expect(pings - before).toBe(2);
  });
});
