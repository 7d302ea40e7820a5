// Accounts and access over HTTP, on both databases: sign-in, cookie sessions with expiry and logout,
// CSRF on changes made with a cookie, login rate limit, API keys with roles, the recordings grant,
// the last-admin guard, and the audit log written for every successful change. The sign-in limit is
// shared by every instance on the database.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { testDatabases } from '../helpers/db.ts';
import { gatewayForSuite } from '../helpers/gateway.ts';

interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies of many shapes
  headers: Record<string, string | number | string[] | undefined>;
}

describe.each(testDatabases())('accounts and access on %s', (kind) => {
  const gw = gatewayForSuite(kind);
  let adminPassword: string;

  const call = async (method: string, url: string, opts: { cookie?: string; csrf?: string; key?: string; body?: unknown; ip?: string } = {}): Promise<Res> => {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = `gw_session=${opts.cookie}`;
    if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    const res = await gw.app.inject({ method: method as 'GET', url, headers, ...(opts.body === undefined ? {} : { payload: opts.body as object }), ...(opts.ip ? { remoteAddress: opts.ip } : {}) });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json(), headers: res.headers };
  };
  const login = async (name: string, password: string, ip = '10.0.0.1'): Promise<{ res: Res; cookie: string; csrf: string }> => {
    const res = await call('POST', '/v1/auth/login', { body: { name, password }, ip });
    const set = String(res.headers['set-cookie'] ?? '');
    return { res, cookie: /gw_session=([^;]+)/.exec(set)?.[1] ?? '', csrf: res.body?.csrfToken };
  };

  beforeAll(async () => {
    adminPassword = readFileSync(path.join(gw.tdb.dataDir, 'admin-password'), 'utf8').trim();
    const flow = { id: 'main', start: 'bye', nodes: { bye: { type: 'hangup' } } };
    expect((await gw.api('/v1/flows', { body: flow })).status).toBe(201);
  });
  it('creates the first admin with a hashed password written to the data folder', async () => {
    const { rows } = await gw.tdb.db.pool.query('SELECT name, role, password_hash FROM users');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'admin', role: 'admin' });
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0].password_hash).not.toContain(adminPassword);
    expect(adminPassword.length).toBeGreaterThanOrEqual(20);
  });

  it('signs in with a session cookie, needs the CSRF token for changes, and signs out', async () => {
    expect((await login('admin', 'wrong password', '10.0.0.2')).res.status).toBe(401);
    const { res, cookie, csrf } = await login('admin', adminPassword, '10.0.0.2');
    expect(res.status).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain('Secure'); // plain http here; https requests get Secure
    expect(res.body.actor).toMatchObject({ kind: 'user', name: 'admin', role: 'admin' });

    const session = await call('GET', '/v1/auth/session', { cookie });
    expect(session.body).toMatchObject({ actor: { name: 'admin' }, csrfToken: csrf });
    const route = { flowId: 'main' };
    const noToken = await call('PUT', '/v1/numbers/%2B15005550100', { cookie, body: route });
    expect(noToken.status).toBe(403);
    expect(noToken.body.code).toBe('GW_ERR_CSRF');
    expect((await call('PUT', '/v1/numbers/%2B15005550100', { cookie, csrf: 'forged', body: route })).status).toBe(403);
    expect((await call('PUT', '/v1/numbers/%2B15005550100', { cookie, csrf, body: route })).status).toBe(200);

    expect((await call('POST', '/v1/auth/logout', { cookie, csrf })).status).toBe(204);
    expect((await call('GET', '/v1/calls', { cookie })).status).toBe(401);
  });

  it('ends expired sessions', async () => {
    const { cookie } = await login('admin', adminPassword, '10.0.0.3');
    expect((await call('GET', '/v1/calls', { cookie })).status).toBe(200);
    await gw.tdb.db.pool.query("UPDATE sessions SET expires_at = now() - interval '1 second'");
    expect((await call('GET', '/v1/calls', { cookie })).status).toBe(401);
  });

  it('limits sign-in attempts per address and per user name', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login('mallory', `guess-${i}`, '10.0.0.4')).res.status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    // Anything from the same address is refused until the window passes, even the right password.
    expect((await login('admin', adminPassword, '10.0.0.4')).res.status).toBe(429);
    // Another address guessing the same name is limited by the name; other users are not affected.
    expect((await login('mallory', 'guess', '10.0.0.5')).res.status).toBe(429);
    expect((await login('admin', adminPassword, '10.0.0.5')).res.status).toBe(200);
  });

  it('shares the sign-in limit between two app instances on one database', async () => {
    // A second instance of the app on the same database (as a second worker or host would be).
    const other = await buildApp({ ...gw.runtime.appDeps, logger: false });
    try {
      const attempt = async (app: FastifyInstance, i: number): Promise<number> =>
        (await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { name: 'eve', password: `guess-${i}` }, remoteAddress: `10.0.1.${i}` })).statusCode;
      // Ten guesses at one name from ten addresses, alternating between the instances: each instance
      // alone saw only five, but the limit counts all of them.
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push(await attempt(i % 2 === 0 ? gw.app : other, i));
      expect(statuses).toEqual(Array(10).fill(401));
      expect(await attempt(other, 10)).toBe(429);
      expect(await attempt(gw.app, 11)).toBe(429);
      const { rows } = await gw.tdb.db.pool.query<{ count: number }>("SELECT count FROM rate_limits WHERE key = 'login|user:eve'");
      // Both instances' attempts are in the one count (each saw at most six). The twelfth is not: an
      // instance that has seen the count over the limit refuses until the window ends without asking.
      expect(rows[0]?.count).toBe(11);
    } finally {
      await other.close();
    }
  });

  it('gives API keys a role, enforced on every route, and exempts them from CSRF', async () => {
    const viewer = await gw.api('/v1/keys', { body: { name: 'report script', role: 'viewer' } });
    expect(viewer.status).toBe(201);
    expect(viewer.body.key).toMatch(/^gwk_/);
    const supervisor = (await gw.api('/v1/keys', { body: { name: 'ops', role: 'supervisor' } })).body.key as string;
    const v = viewer.body.key as string;
    expect((await call('GET', '/v1/calls', { key: v })).status).toBe(200);
    const refused = await call('PUT', '/v1/numbers/%2B15005550101', { key: v, body: { flowId: 'main' } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('GW_ERR_FORBIDDEN');
    expect((await call('GET', '/v1/users', { key: v })).status).toBe(403);
    expect((await call('PUT', '/v1/numbers/%2B15005550101', { key: supervisor, body: { flowId: 'main' } })).status).toBe(200);
    expect((await call('GET', '/v1/users', { key: supervisor })).status).toBe(403);
    // Listen-in needs the recordings grant: refused for the viewer, allowed (but not live) for the supervisor.
    expect((await call('GET', '/v1/live/calls/nope/audio', { key: v })).status).toBe(403);
    expect((await call('GET', '/v1/live/calls/nope/audio', { key: supervisor })).status).toBe(404);
    const granted = (await gw.api('/v1/keys', { body: { name: 'qa', role: 'viewer', recordings: true } })).body.key as string;
    expect((await call('GET', '/v1/live/calls/nope/audio', { key: granted })).status).toBe(404);
    // Stored as a digest only; a revoked key is refused.
    const { rows } = await gw.tdb.db.pool.query('SELECT key_hash FROM api_keys');
    expect(rows.every((r: { key_hash: string }) => r.key_hash.length === 64 && r.key_hash !== v)).toBe(true);
    expect((await gw.api(`/v1/keys/${viewer.body.record.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call('GET', '/v1/calls', { key: v })).status).toBe(401);
  });

  it('manages users, keeps the last admin, and ends sessions when a role changes', async () => {
    const created = await gw.api('/v1/users', { body: { name: 'sam', role: 'supervisor', password: 'supervisor-pass-1' } });
    expect(created.status).toBe(201);
    expect((await gw.api('/v1/users', { body: { name: 'sam', role: 'viewer', password: 'another-pass-12' } })).status).toBe(409);
    expect((await gw.api('/v1/users', { body: { name: 'bad name!', role: 'viewer', password: 'another-pass-12' } })).status).toBe(400);
    const { cookie } = await login('sam', 'supervisor-pass-1', '10.0.0.6');
    expect((await call('GET', '/v1/auth/session', { cookie })).body.actor.role).toBe('supervisor');
    expect((await gw.api(`/v1/users/${created.body.id}`, { method: 'PATCH', body: { role: 'viewer' } })).status).toBe(200);
    expect((await call('GET', '/v1/auth/session', { cookie })).status).toBe(401);
    const users = (await gw.api('/v1/users')).body.users as Array<{ id: string; name: string }>;
    const admin = users.find((u) => u.name === 'admin');
    const demote = await gw.api(`/v1/users/${admin?.id}`, { method: 'PATCH', body: { role: 'viewer' } });
    expect(demote.status).toBe(400);
    expect(demote.body.code).toBe('GW_ERR_LAST_ADMIN');
  });

  it('records every successful change in the audit log, and nothing else', async () => {
    const before = (await gw.api('/v1/audit?limit=500')).body.events.length as number;
    await gw.api('/v1/calls'); // a read
    await gw.api('/v1/numbers/%2B1', { method: 'PUT', body: { flowId: 'main' } }); // refused: 400
    const ok = await gw.api('/v1/numbers/%2B15005550102', { method: 'PUT', body: { flowId: 'main' } });
    expect(ok.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const { body } = await gw.api('/v1/audit?limit=500');
    expect(body.events.length).toBe(before + 1);
    expect(body.events[0]).toMatchObject({
      actor: { kind: 'key', name: 'API_KEY' },
      method: 'PUT',
      route: '/v1/numbers/:e164',
      status: 200,
      target: { e164: '+15005550102', flowId: 'main' },
    });
    // Who signed in and who created whom is there; no password is.
    const all = JSON.stringify(body.events);
    expect(all).toContain('/v1/auth/login');
    expect(all).toContain('"name":"sam"');
    expect(all).not.toContain('supervisor-pass-1');
    expect(all).not.toContain(adminPassword);
    // Viewers cannot read it.
    const viewerKey = (await gw.api('/v1/keys', { body: { name: 'peek', role: 'viewer' } })).body.key as string;
    expect((await call('GET', '/v1/audit', { key: viewerKey })).status).toBe(403);
  });
});
