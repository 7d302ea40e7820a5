// Flows, numbers and departments through the real app (auth, error handler, OpenAPI) with Fastify
// inject, on every database engine the gateway supports.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowResolver } from '../../src/flow/resolve.ts';
import { FlowStore } from '../../src/store/flows.ts';
import { testDatabases } from '../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../flows/${name}.json`, import.meta.url), 'utf8'));

describe.each(testDatabases())('flows API on %s', (kind) => {
  let gw: TestGateway;
  let store: FlowStore;
  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    gw.app.inject({ method, url, headers: { authorization: `Bearer ${gw.apiKey}` }, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    // The real runtime registers the flow, number and department routes (src/composition.ts).
    gw = await startTestGateway(kind);
    store = new FlowStore(gw.tdb.db.pool);
  });
  afterAll(async () => {
    await gw.close();
  });

  it('requires the API key', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/v1/flows' });
    expect(res.statusCode).toBe(401);
  });

  it('deploys every example flow, versions on change, and is idempotent for the same definition', async () => {
    for (const name of ['default', 'ivr-menu', 'outbound-reminder', 'support-agent']) {
      const res = await call('POST', '/v1/flows', example(name));
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ id: name, version: 1, created: true });
    }
    // Warnings tell what this deployment cannot do, without refusing the flow.
    const again = await call('POST', '/v1/flows', example('ivr-menu'));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: 'ivr-menu', version: 1, created: false });
    expect(again.json().warnings.map((w: { text: string }) => w.text)).toContain(
      'nodes.menu.input: speech input is not available (no speech-to-text configured); only DTMF will be collected',
    );

    const changed = example('ivr-menu');
    (changed.variables as Record<string, unknown>).company = 'Globex';
    const v2 = await call('POST', '/v1/flows', changed);
    expect(v2.statusCode).toBe(201);
    expect(v2.json()).toMatchObject({ id: 'ivr-menu', version: 2 });

    const latest = await call('GET', '/v1/flows/ivr-menu');
    expect(latest.json()).toMatchObject({ id: 'ivr-menu', version: 2, definition: { variables: { company: 'Globex' } } });
    const first = await call('GET', '/v1/flows/ivr-menu?version=1');
    expect(first.json()).toMatchObject({ version: 1, definition: { variables: { company: 'Acme' } } });
    expect((await call('GET', '/v1/flows/ivr-menu?version=9')).statusCode).toBe(404);
    expect((await call('GET', '/v1/flows/nope')).json()).toMatchObject({ code: 'GW_ERR_FLOW_NOT_FOUND' });

    const list = (await call('GET', '/v1/flows')).json<{ flows: Array<{ id: string; latestVersion: number; versions: number }> }>();
    expect(list.flows.map((f) => f.id)).toEqual(['default', 'ivr-menu', 'outbound-reminder', 'support-agent']);
    expect(list.flows.find((f) => f.id === 'ivr-menu')).toMatchObject({ latestVersion: 2, versions: 2 });
    expect((await call('GET', '/v1/flows/ivr-menu/versions')).json().versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
  });

  it('refuses an invalid flow with every problem at once, naming node and field', async () => {
    const bad = {
      id: 'broken',
      start: 'ask',
      nodes: {
        ask: { type: 'gather', noInputTimeoutMs: 90000, next: 'nowhere', noInput: 'ask', prompt: { text: 'Hi {{secret.key}}' } },
        lost: { type: 'hangup' },
      },
    };
    const res = await call('POST', '/v1/flows', bad);
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; errors: Array<{ text: string }> }>();
    expect(body.code).toBe('GW_ERR_FLOW_INVALID');
    expect(body.errors.map((e) => e.text).sort()).toEqual(
      [
        'nodes.ask.noInputTimeoutMs: must be ≤ 60000',
        'nodes.ask.next: points at unknown node "nowhere"',
        "nodes.ask.prompt.text: {{secret.key}}: unknown variable root 'secret' (known: contact, vars, call, input, amd, http, agent, flow)",
        'nodes.lost: is unreachable from the start node',
      ].sort(),
    );
    expect((await call('GET', '/v1/flows/broken')).statusCode).toBe(404);
  });

  it('validates without saving', async () => {
    const ok = await call('POST', '/v1/flows/dry/validate', { id: 'dry', start: 'a', nodes: { a: { type: 'hangup' } } });
    expect(ok.json()).toEqual({ valid: true, errors: [], warnings: [] });
    const mismatch = await call('POST', '/v1/flows/dry/validate', { id: 'other', start: 'a', nodes: { a: { type: 'hangup' } } });
    expect(mismatch.json()).toMatchObject({ valid: false, errors: [{ path: 'id' }] });
    expect((await call('GET', '/v1/flows/dry')).statusCode).toBe(404);
  });

  it('routes numbers to flows with E.164 validation, and the resolver follows the routes', async () => {
    expect((await call('PUT', '/v1/numbers/+14155550123', { flowId: 'ivr-menu' })).json()).toMatchObject({ e164: '+14155550123', flowId: 'ivr-menu', version: null });
    expect((await call('PUT', '/v1/numbers/%2B14155550124', { flowId: 'ivr-menu', version: 1 })).json()).toMatchObject({ e164: '+14155550124', version: 1 });
    const badNumber = await call('PUT', '/v1/numbers/4155550123', { flowId: 'ivr-menu' });
    expect(badNumber.statusCode).toBe(400);
    expect(badNumber.json().code).toBe('GW_ERR_NUMBER_INVALID');
    expect((await call('PUT', '/v1/numbers/+14155550125', { flowId: 'missing' })).json().code).toBe('GW_ERR_FLOW_NOT_FOUND');
    expect((await call('PUT', '/v1/numbers/+14155550125', { flowId: 'ivr-menu', version: 7 })).statusCode).toBe(404);
    expect((await call('PUT', '/v1/numbers/+14155550125', { flowId: 'ivr-menu', version: 0 })).json().code).toBe('GW_ERR_VALIDATION');

    const list = (await call('GET', '/v1/numbers')).json<{ numbers: Array<{ e164: string }> }>();
    expect(list.numbers.map((n) => n.e164)).toEqual(['+14155550123', '+14155550124']);

    const resolver = createFlowResolver({ flows: store });
    const latest = await resolver.resolve({ to: '+14155550123' });
    expect(latest).toMatchObject({ flowId: 'ivr-menu', version: 2, source: 'number' });
    expect((await resolver.resolve({ to: '+14155550124' })).version).toBe(1);
    expect(await resolver.resolve({ to: '+19995550000' })).toMatchObject({ flowId: 'default', version: 1, source: 'default' });
    expect(await resolver.resolve({ to: '+14155550123', flowId: 'outbound-reminder' })).toMatchObject({ flowId: 'outbound-reminder', source: 'explicit' });

    expect((await call('DELETE', '/v1/numbers/+14155550123')).statusCode).toBe(204);
    expect((await call('DELETE', '/v1/numbers/+14155550123')).json().code).toBe('GW_ERR_NUMBER_NOT_FOUND');
    expect((await resolver.resolve({ to: '+14155550123' })).source).toBe('default');
  });

  it('stores departments with validated time zones and hours', async () => {
    const sales = { numbers: ['+14155550111'], timeZone: 'America/New_York', hours: { mon: ['09:00-17:00'] }, outsideHours: { text: 'We are closed.' } };
    const put = await call('PUT', '/v1/departments/sales', sales);
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ name: 'sales', ...sales });
    expect((await call('PUT', '/v1/departments/bad', { ...sales, timeZone: 'Mars/Olympus' })).json().code).toBe('GW_ERR_DEPARTMENT_INVALID');
    expect((await call('PUT', '/v1/departments/bad', { ...sales, hours: { mon: ['9-5'] } })).statusCode).toBe(400);
    expect((await call('GET', '/v1/departments')).json().departments.map((d: { name: string }) => d.name)).toEqual(['sales']);
    // Known departments silence the "not configured" warning on flows that transfer to them.
    const v = await call('POST', '/v1/flows/t/validate', { id: 't', start: 'a', nodes: { a: { type: 'transfer', department: 'sales' } } });
    expect(v.json()).toMatchObject({ valid: true, warnings: [] });
    const w = await call('POST', '/v1/flows/t/validate', { id: 't', start: 'a', nodes: { a: { type: 'transfer', department: 'legal' } } });
    expect(w.json().warnings[0].text).toBe('nodes.a.department: department "legal" is not configured (yet)');
    expect((await call('DELETE', '/v1/departments/sales')).statusCode).toBe(204);
    expect((await call('GET', '/v1/departments/sales')).statusCode).toBe(404);
  });

  it('documents every route in the OpenAPI document', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/docs/json' });
    const paths = Object.keys(res.json<{ paths: Record<string, unknown> }>().paths);
    for (const p of ['/v1/flows', '/v1/flows/{id}', '/v1/flows/{id}/validate', '/v1/numbers/{e164}', '/v1/numbers', '/v1/departments/{name}']) {
      expect(paths).toContain(p);
    }
  });
});
