// Flows (immutable versions), number → flow routing and departments, in PostgreSQL (or PGlite; same
// SQL). Everything a gateway instance needs to route and run a call lives here, so any instance can
// serve any call (DESIGN decision 9).
import { createError } from '../errors.ts';
import type { Department, FlowDefinition } from '../flow/types.ts';
import type { Queryable } from './db.ts';

export interface StoredFlow {
  id: string;
  version: number;
  definition: FlowDefinition;
  createdAt: string;
}

export interface FlowSummary {
  id: string;
  latestVersion: number;
  versions: number;
  name: string | null;
  updatedAt: string;
}

export interface NumberRoute {
  e164: string;
  flowId: string;
  /** null: the latest version at call time. */
  version: number | null;
  updatedAt: string;
}

export interface StoredDepartment extends Department {
  updatedAt: string;
}

/**
 * Unique-violation retries when deploys of the same flow race: each round at least one writer wins
 * (the losers wait for its commit, then get 23505 and read the new maximum), so N concurrent
 * deploys need at most N rounds. Concurrent deploys of one flow are rare; 20 is generous.
 */
const SAVE_ATTEMPTS = 20;

const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();

export class FlowStore {
  private readonly db: Queryable;

  constructor(db: Queryable) {
    this.db = db;
  }

  /**
   * Store `definition` as the next version of its id. Saving the same definition as the latest
   * version again is a no-op that returns that version (`created: false`), so deploys are idempotent.
   */
  async save(definition: FlowDefinition): Promise<{ id: string; version: number; created: boolean }> {
    const json = JSON.stringify(definition);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.db.query<{ version: number; created: boolean }>(
          `WITH latest AS (
             SELECT version, definition FROM flows WHERE id = $1 ORDER BY version DESC LIMIT 1
           ), ins AS (
             INSERT INTO flows (id, version, definition)
             SELECT $1, COALESCE((SELECT version FROM latest), 0) + 1, $2::jsonb
             WHERE NOT EXISTS (SELECT 1 FROM latest WHERE definition = $2::jsonb)
             RETURNING version
           )
           SELECT version, true AS created FROM ins
           UNION ALL
           SELECT version, false AS created FROM latest WHERE definition = $2::jsonb`,
          [definition.id, json],
        );
        const row = r.rows[0];
        if (row === undefined) throw createError('GW_ERR_FLOW_STORE', 'saving the flow returned no version');
        return { id: definition.id, version: Number(row.version), created: row.created };
      } catch (err) {
        // 23505 unique_violation: another writer took this version number; read again and retry.
        if ((err as { code?: string }).code === '23505' && attempt < SAVE_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /** A version of a flow, or the latest. */
  async get(id: string, version?: number): Promise<StoredFlow | undefined> {
    const r =
      version === undefined
        ? await this.db.query('SELECT id, version, definition, created_at FROM flows WHERE id = $1 ORDER BY version DESC LIMIT 1', [id])
        : await this.db.query('SELECT id, version, definition, created_at FROM flows WHERE id = $1 AND version = $2', [id, version]);
    const row = r.rows[0] as { id: string; version: number; definition: FlowDefinition; created_at: Date } | undefined;
    return row === undefined ? undefined : { id: row.id, version: Number(row.version), definition: row.definition, createdAt: iso(row.created_at) };
  }

  /** Flows by id; `page` reads `limit` after the id `after` (all when absent). */
  async list(page?: { after?: string | undefined; limit: number }): Promise<FlowSummary[]> {
    const r = await this.db.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (id) id, version, definition->>'name' AS name, created_at,
                count(*) OVER (PARTITION BY id) AS versions
           FROM flows WHERE ($1::text IS NULL OR id > $1) ORDER BY id, version DESC) latest
        ORDER BY id LIMIT $2`,
      [page?.after ?? null, page?.limit ?? null],
    );
    return (r.rows as Array<{ id: string; version: number; name: string | null; created_at: Date; versions: string | number }>).map((row) => ({
      id: row.id,
      latestVersion: Number(row.version),
      versions: Number(row.versions),
      name: row.name,
      updatedAt: iso(row.created_at),
    }));
  }

  async versions(id: string, page?: { after?: number | undefined; limit: number }): Promise<Array<{ version: number; createdAt: string }>> {
    const r = await this.db.query('SELECT version, created_at FROM flows WHERE id = $1 AND ($2::int IS NULL OR version > $2) ORDER BY version LIMIT $3', [
      id,
      page?.after ?? null,
      page?.limit ?? null,
    ]);
    return (r.rows as Array<{ version: number; created_at: Date }>).map((row) => ({ version: Number(row.version), createdAt: iso(row.created_at) }));
  }

  // ---- numbers ----

  /** Route a number to a flow (a pinned version, or null for the latest). The flow must exist. */
  async setNumber(e164: string, flowId: string, version: number | null): Promise<NumberRoute> {
    const exists = await this.get(flowId, version ?? undefined);
    if (exists === undefined) {
      throw createError(
        'GW_ERR_FLOW_NOT_FOUND',
        version === null ? `flow "${flowId}" does not exist; create it with POST /v1/flows first` : `flow "${flowId}" has no version ${version}`,
        { statusCode: 404 },
      );
    }
    const r = await this.db.query(
      `INSERT INTO numbers (e164, flow_id, version) VALUES ($1, $2, $3)
       ON CONFLICT (e164) DO UPDATE SET flow_id = EXCLUDED.flow_id, version = EXCLUDED.version, updated_at = now()
       RETURNING e164, flow_id, version, updated_at`,
      [e164, flowId, version],
    );
    return toRoute(r.rows[0]);
  }

  async getNumber(e164: string): Promise<NumberRoute | undefined> {
    const r = await this.db.query('SELECT e164, flow_id, version, updated_at FROM numbers WHERE e164 = $1', [e164]);
    return r.rows[0] === undefined ? undefined : toRoute(r.rows[0]);
  }

  async listNumbers(page?: { after?: string | undefined; limit: number }): Promise<NumberRoute[]> {
    const r = await this.db.query('SELECT e164, flow_id, version, updated_at FROM numbers WHERE ($1::text IS NULL OR e164 > $1) ORDER BY e164 LIMIT $2', [
      page?.after ?? null,
      page?.limit ?? null,
    ]);
    return r.rows.map(toRoute);
  }

  async deleteNumber(e164: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM numbers WHERE e164 = $1', [e164]);
    return (r.rowCount ?? 0) > 0;
  }

  // ---- departments ----

  async putDepartment(dept: Department): Promise<StoredDepartment> {
    const { name, ...definition } = dept;
    const r = await this.db.query(
      `INSERT INTO departments (name, definition) VALUES ($1, $2::jsonb)
       ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()
       RETURNING name, definition, updated_at`,
      [name, JSON.stringify(definition)],
    );
    return toDepartment(r.rows[0]);
  }

  async getDepartment(name: string): Promise<StoredDepartment | undefined> {
    const r = await this.db.query('SELECT name, definition, updated_at FROM departments WHERE name = $1', [name]);
    return r.rows[0] === undefined ? undefined : toDepartment(r.rows[0]);
  }

  async listDepartments(page?: { after?: string | undefined; limit: number }): Promise<StoredDepartment[]> {
    const r = await this.db.query('SELECT name, definition, updated_at FROM departments WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2', [
      page?.after ?? null,
      page?.limit ?? null,
    ]);
    return r.rows.map(toDepartment);
  }

  async deleteDepartment(name: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM departments WHERE name = $1', [name]);
    return (r.rowCount ?? 0) > 0;
  }
}

function toRoute(row: { e164: string; flow_id: string; version: number | null; updated_at: Date }): NumberRoute {
  return { e164: row.e164, flowId: row.flow_id, version: row.version === null ? null : Number(row.version), updatedAt: iso(row.updated_at) };
}

function toDepartment(row: { name: string; definition: Omit<Department, 'name'>; updated_at: Date }): StoredDepartment {
  return { ...row.definition, name: row.name, updatedAt: iso(row.updated_at) };
}
