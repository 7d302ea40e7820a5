// Users, sessions, API keys and audit events in the database (migration 007). Session ids and API
// keys are long random values; only their SHA-256 digests are stored, so a database dump opens nothing.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../fastifyTypes.ts';
import type { Queryable } from '../store/db.ts';

export const ROLES: readonly Role[] = ['viewer', 'supervisor', 'admin'];

export const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface User {
  id: string;
  name: string;
  role: Role;
  recordings: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  recordings: boolean;
  createdBy: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface NewAuditEvent {
  actor: { kind: 'user' | 'key'; id: string; name: string };
  method: string;
  route: string;
  url: string;
  status: number;
  target: Record<string, unknown>;
}

export interface AuditEvent extends NewAuditEvent {
  id: number;
  at: string;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/* eslint-disable @typescript-eslint/no-explicit-any -- rows straight from pg */
const toUser = (r: any): User => ({ id: r.id, name: r.name, role: r.role, recordings: r.recordings, disabled: r.disabled, createdAt: iso(r.created_at) });
const toKey = (r: any): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  recordings: r.recordings,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  revokedAt: r.revoked_at === null ? null : iso(r.revoked_at),
});
const toAudit = (r: any): AuditEvent => ({
  id: Number(r.id),
  at: iso(r.at),
  actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
  method: r.method,
  route: r.route,
  url: r.url,
  status: r.status,
  target: r.target,
});
/* eslint-enable @typescript-eslint/no-explicit-any */

export class AuthStore {
  private readonly db: Queryable;

  constructor(db: Queryable) {
    this.db = db;
  }

  async createUser(u: { name: string; role: Role; recordings?: boolean; passwordHash: string }): Promise<User> {
    const { rows } = await this.db.query(
      'INSERT INTO users (id, name, role, recordings, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [randomUUID(), u.name, u.role, u.recordings ?? false, u.passwordHash],
    );
    return toUser(rows[0]);
  }

  async countUsers(): Promise<number> {
    const { rows } = await this.db.query('SELECT count(*)::int AS n FROM users');
    return (rows[0] as { n: number }).n;
  }

  async listUsers(): Promise<User[]> {
    const { rows } = await this.db.query('SELECT * FROM users ORDER BY name');
    return rows.map(toUser);
  }

  async getUser(id: string): Promise<User | undefined> {
    const { rows } = await this.db.query('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }

  /** The user and its password hash, for signing in. */
  async findForLogin(name: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const { rows } = await this.db.query('SELECT * FROM users WHERE name = $1', [name]);
    const r = rows[0] as { password_hash: string } | undefined;
    return r === undefined ? undefined : { user: toUser(r), passwordHash: r.password_hash };
  }

  async updateUser(id: string, patch: { role?: Role; recordings?: boolean; disabled?: boolean; passwordHash?: string }): Promise<User | undefined> {
    const { rows } = await this.db.query(
      `UPDATE users SET role = COALESCE($2, role), recordings = COALESCE($3, recordings), disabled = COALESCE($4, disabled),
              password_hash = COALESCE($5, password_hash), updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, patch.role ?? null, patch.recordings ?? null, patch.disabled ?? null, patch.passwordHash ?? null],
    );
    // A changed password, role or a disabled account ends the user's sessions: they sign in again.
    if (rows[0] !== undefined && (patch.passwordHash !== undefined || patch.disabled === true || patch.role !== undefined)) await this.endSessionsOf(id);
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }

  async setPasswordByName(name: string, passwordHash: string): Promise<User | undefined> {
    const found = await this.findForLogin(name);
    if (found === undefined) return undefined;
    return this.updateUser(found.user.id, { passwordHash, disabled: false });
  }

  async deleteUser(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM users WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  async countActiveAdmins(): Promise<number> {
    const { rows } = await this.db.query("SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled");
    return (rows[0] as { n: number }).n;
  }

  /** Opens a session; returns the cookie value (never stored) and its CSRF token. */
  async createSession(userId: string, ttlMs: number): Promise<{ sessionId: string; csrfToken: string; expiresAt: Date }> {
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + ttlMs);
    await this.db.query('INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)', [digest(sessionId), userId, csrfToken, expiresAt]);
    // Expired sessions of anyone are swept on each sign-in: the table stays small without a timer.
    await this.db.query('DELETE FROM sessions WHERE expires_at < now()');
    return { sessionId, csrfToken, expiresAt };
  }

  async findSession(sessionId: string): Promise<{ user: User; csrfToken: string; expiresAt: string } | undefined> {
    const { rows } = await this.db.query(
      `SELECT u.*, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id_hash = $1 AND s.expires_at > now() AND NOT u.disabled`,
      [digest(sessionId)],
    );
    const r = rows[0] as { csrf_token: string; expires_at: unknown } | undefined;
    return r === undefined ? undefined : { user: toUser(r), csrfToken: r.csrf_token, expiresAt: iso(r.expires_at) };
  }

  async endSession(sessionId: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE id_hash = $1', [digest(sessionId)]);
  }

  async endSessionsOf(userId: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }

  /** Creates a key; the secret is returned once and only its digest is kept. */
  async createKey(k: { name: string; role: Role; recordings?: boolean; createdBy: string }): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = `gwk_${randomBytes(24).toString('base64url')}`;
    const { rows } = await this.db.query(
      'INSERT INTO api_keys (id, name, key_hash, role, recordings, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [randomUUID(), k.name, digest(key), k.role, k.recordings ?? false, k.createdBy],
    );
    return { key, record: toKey(rows[0]) };
  }

  async findKey(key: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query('SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [digest(key)]);
    return rows[0] === undefined ? undefined : toKey(rows[0]);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.db.query('SELECT * FROM api_keys ORDER BY created_at DESC');
    return rows.map(toKey);
  }

  async revokeKey(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
    return (rowCount ?? 0) > 0;
  }

  async addAudit(e: NewAuditEvent): Promise<void> {
    await this.db.query(
      'INSERT INTO audit_events (actor_kind, actor_id, actor_name, method, route, url, status, target) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [e.actor.kind, e.actor.id, e.actor.name, e.method, e.route, e.url, e.status, JSON.stringify(e.target)],
    );
  }

  /** Newest first; `before` is the id of the last event of the previous page. */
  async listAudit(q: { limit: number; before?: number | undefined; actor?: string | undefined }): Promise<AuditEvent[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM audit_events WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR actor_name = $2)
        ORDER BY id DESC LIMIT $3`,
      [q.before ?? null, q.actor ?? null, q.limit],
    );
    return rows.map(toAudit);
  }
}
