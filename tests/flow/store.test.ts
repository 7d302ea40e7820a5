// The flow store on every database engine: versions under concurrent deploys, idempotent saves,
// number routes that must point at existing flows, departments as JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { FlowStore } from '../../src/store/flows.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

const def = (id: string, text: string): FlowDefinition => ({ id, start: 'a', nodes: { a: { type: 'say', text, next: 'b' }, b: { type: 'hangup' } } });

describe.each(testDatabases())('flow store on %s', (kind) => {
  let t: TestDatabase;
  let store: FlowStore;
  // One database per engine (opening PGlite costs seconds); each test uses its own ids.
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    store = new FlowStore(t.db.pool);
  });
  afterAll(() => t.cleanup());

  it('gives concurrent deploys of one flow distinct, gapless versions', async () => {
    const all = Array.from({ length: 10 }, (_, i) => i + 1);
    const saved = await Promise.all(all.map((i) => store.save(def('busy', `v${i}`))));
    expect(saved.map((s) => s.version).sort((a, b) => a - b)).toEqual(all);
    expect(saved.every((s) => s.created)).toBe(true);
    const versions = await store.versions('busy');
    expect(versions.map((v) => v.version)).toEqual(all);
    // Each stored version holds the definition that got that number.
    for (const s of saved) {
      const got = await store.get('busy', s.version);
      expect(saved.find((x) => x.version === got?.version)).toBeDefined();
    }
  });

  it('returns the latest version for an identical definition instead of storing it again', async () => {
    expect(await store.save(def('same', 'hello'))).toEqual({ id: 'same', version: 1, created: true });
    expect(await store.save(def('same', 'hello'))).toEqual({ id: 'same', version: 1, created: false });
    expect(await store.save(def('same', 'changed'))).toEqual({ id: 'same', version: 2, created: true });
    // Back to the first text: a new version (only the latest is compared).
    expect(await store.save(def('same', 'hello'))).toMatchObject({ version: 3, created: true });
    expect((await store.get('same'))?.definition).toEqual(def('same', 'hello'));
    expect(await store.get('same', 4)).toBeUndefined();
    expect((await store.list()).find((f) => f.id === 'same')).toEqual({ id: 'same', latestVersion: 3, versions: 3, name: null, updatedAt: expect.any(String) });
  });

  it('routes numbers only to existing flows and versions; the database refuses non-E.164 numbers', async () => {
    await store.save(def('menu', 'hi'));
    await expect(store.setNumber('+14155550100', 'nope', null)).rejects.toMatchObject({ code: 'GW_ERR_FLOW_NOT_FOUND', statusCode: 404 });
    await expect(store.setNumber('+14155550100', 'menu', 2)).rejects.toMatchObject({ code: 'GW_ERR_FLOW_NOT_FOUND' });
    expect(await store.setNumber('+14155550100', 'menu', null)).toMatchObject({ e164: '+14155550100', flowId: 'menu', version: null });
    expect(await store.setNumber('+14155550100', 'menu', 1)).toMatchObject({ version: 1 });
    expect((await store.listNumbers()).map((n) => n.e164)).toEqual(['+14155550100']);
    await expect(t.db.pool.query("INSERT INTO numbers (e164, flow_id) VALUES ('4155550100', 'menu')")).rejects.toThrow(/check constraint/);
    expect(await store.deleteNumber('+14155550100')).toBe(true);
    expect(await store.deleteNumber('+14155550100')).toBe(false);
    expect(await store.getNumber('+14155550100')).toBeUndefined();
  });

  it('keeps departments as JSON, replaced as a whole', async () => {
    await store.putDepartment({ name: 'sales', numbers: ['+14155550111'], timeZone: 'Europe/Paris', hours: { mon: ['09:00-12:00', '14:00-18:00'] } });
    await store.putDepartment({ name: 'sales', numbers: ['+14155550112'], timeZone: 'Europe/Paris' });
    const got = await store.getDepartment('sales');
    expect(got).toMatchObject({ name: 'sales', numbers: ['+14155550112'], timeZone: 'Europe/Paris' });
    expect(got?.hours).toBeUndefined();
    expect((await store.listDepartments()).map((d) => d.name)).toEqual(['sales']);
    expect(await store.deleteDepartment('sales')).toBe(true);
    expect(await store.getDepartment('sales')).toBeUndefined();
  });
});
