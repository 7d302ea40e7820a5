// /v1/auth (sign in and out, the current session), /v1/users and /v1/keys (admin), /v1/audit.
import type pg from 'pg';
import { sharedRateLimitStore } from '../gateway/rateLimitStore.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createError, errorBody } from '../errors.ts';
import type { Role } from '../fastifyTypes.ts';
import { SESSION_COOKIE } from './access.ts';
import type { Actor } from './actor.ts';
import { LoginLimiter } from './loginLimiter.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { ROLES, type AuthStore } from './store.ts';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MIN_PASSWORD = 10;
/** Sign-in counts wait this long for the database before counting in memory. */
const LOGIN_COUNT_TIMEOUT_MS = 2_000;
/** Keys the in-memory fallback remembers at most. */
const LOGIN_LIMIT_KEYS = 10_000;

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const role = { type: 'string', enum: ROLES } as const;
const userSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, role, recordings: { type: 'boolean' }, disabled: { type: 'boolean' }, createdAt: { type: 'string' } },
} as const;
const actorSchema = {
  type: 'object',
  properties: { kind: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' }, role, recordings: { type: 'boolean' } },
} as const;
const keySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, role, recordings: { type: 'boolean' },
    createdBy: { type: ['string', 'null'] }, createdAt: { type: 'string' }, revokedAt: { type: ['string', 'null'] },
  },
} as const;
const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const userName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$' } as const;
const password = { type: 'string', minLength: MIN_PASSWORD, maxLength: 200 } as const;

export interface AuthRoutesOptions {
  store: AuthStore;
  /** Sign-in attempts per minute per client address and per user name. */
  loginAttemptsPerMinute?: number;
  /** The database whose rate_limits table counts attempts (every instance sees them). */
  db: Pick<pg.Pool, 'query'>;
}

const actorOf = (request: FastifyRequest): Actor => {
  if (request.actor === undefined) throw createError('GW_ERR_UNAUTHORIZED', 'sign in first', { statusCode: 401 });
  return request.actor;
};

export async function authRoutes(api: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  const { store } = opts;
  // The API's shared store, but waiting longer for the database: a sign-in (scrypt) is slow anyway, and
  // a limit that slips to per-process counting under load is what a password guesser wants.
  const limiter = new LoginLimiter(opts.loginAttemptsPerMinute ?? 10, sharedRateLimitStore(opts.db, { fallbackCache: LOGIN_LIMIT_KEYS, timeoutMs: LOGIN_COUNT_TIMEOUT_MS }));

  api.post(
    '/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Sign in: sets the HttpOnly session cookie and answers the CSRF token for changes',
        tags: ['auth'],
        body: { type: 'object', required: ['name', 'password'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 200 } }, examples: [{ name: 'admin', password: 'the password in data/admin-password' }] },
        response: { 200: { type: 'object', properties: { actor: actorSchema, csrfToken: { type: 'string' }, expiresAt: { type: 'string' } } }, 401: errorSchema, 429: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Body: { name: string; password: string } }>, reply) => {
      const { name, password: given } = request.body;
      const wait = await limiter.hit(request.ip, name);
      if (wait > 0) {
        return reply.code(429).header('retry-after', Math.ceil(wait / 1000)).send(errorBody(createError('GW_ERR_RATE_LIMITED', 'too many sign-in attempts; wait a minute and try again', { statusCode: 429 })));
      }
      const found = await store.findForLogin(name);
      // The hash is checked even for an unknown name, so the answer time does not tell which names exist.
      const ok = await verifyPassword(given, found?.passwordHash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      if (found === undefined || !ok || found.user.disabled) {
        request.log.warn({ ip: request.ip }, 'failed sign-in');
        return reply.code(401).send(errorBody(createError('GW_ERR_LOGIN_FAILED', 'wrong user name or password', { statusCode: 401 })));
      }
      const u = found.user;
      const session = await store.createSession(u.id, SESSION_TTL_MS);
      reply.setCookie(SESSION_COOKIE, session.sessionId, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        expires: session.expiresAt,
      });
      const actor: Actor = { kind: 'user', id: u.id, name: u.name, role: u.role, recordings: u.recordings };
      request.actor = actor;
      return { actor, csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() };
    },
  );

  api.post(
    '/auth/logout',
    {
      config: { role: 'viewer' },
      schema: { summary: 'Sign out: ends the session', tags: ['auth'], response: { 204: { type: 'null' } } },
    },
    async (request, reply) => {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie !== undefined) await store.endSession(cookie);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    },
  );

  api.get(
    '/auth/session',
    {
      schema: {
        summary: 'Who is signed in, with the CSRF token to send as x-csrf-token on changes',
        tags: ['auth'],
        response: { 200: { type: 'object', properties: { actor: actorSchema, csrfToken: { type: ['string', 'null'] } } } },
      },
    },
    async (request) => ({ actor: actorOf(request), csrfToken: request.csrfToken ?? null }),
  );

  api.post(
    '/auth/password',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Change your own password (signs out your other sessions)',
        tags: ['auth'],
        body: { type: 'object', required: ['current', 'password'], additionalProperties: false, properties: { current: { type: 'string', maxLength: 200 }, password }, examples: [{ current: 'old password', password: 'a new long password' }] },
        response: { 204: { type: 'null' }, 400: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Body: { current: string; password: string } }>, reply) => {
      const actor = actorOf(request);
      if (actor.kind !== 'user') throw createError('GW_ERR_BAD_REQUEST', 'API keys have no password', { statusCode: 400 });
      const found = await store.findForLogin(actor.name);
      if (found === undefined || !(await verifyPassword(request.body.current, found.passwordHash))) {
        throw createError('GW_ERR_LOGIN_FAILED', 'current: wrong password', { statusCode: 400 });
      }
      await store.updateUser(actor.id, { passwordHash: await hashPassword(request.body.password) });
      return reply.code(204).send();
    },
  );

  api.get(
    '/users',
    { config: { role: 'admin' }, schema: { summary: 'List operators', tags: ['users'], response: { 200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } } } } },
    async () => ({ users: await store.listUsers() }),
  );

  api.post(
    '/users',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create an operator',
        tags: ['users'],
        body: { type: 'object', required: ['name', 'role', 'password'], additionalProperties: false, properties: { name: userName, role, recordings: { type: 'boolean' }, password }, examples: [{ name: 'sam', role: 'supervisor', password: 'a long password' }] },
        response: { 201: userSchema, 400: errorSchema, 409: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Body: { name: string; role: Role; recordings?: boolean; password: string } }>, reply: FastifyReply) => {
      const b = request.body;
      if ((await store.findForLogin(b.name)) !== undefined) throw createError('GW_ERR_USER_EXISTS', `name: a user "${b.name}" already exists`, { statusCode: 409 });
      const user = await store.createUser({ name: b.name, role: b.role, recordings: b.recordings ?? false, passwordHash: await hashPassword(b.password) });
      return reply.code(201).send(user);
    },
  );

  api.patch(
    '/users/:id',
    {
      config: { role: 'admin' },
      schema: {
        summary: "Change an operator's role, recordings grant, disabled state or password",
        tags: ['users'],
        params: idParam,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { role, recordings: { type: 'boolean' }, disabled: { type: 'boolean' }, password }, examples: [{ role: 'viewer', recordings: true }] },
        response: { 200: userSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Body: { role?: Role; recordings?: boolean; disabled?: boolean; password?: string } }>) => {
      const b = request.body;
      const current = await store.getUser(request.params.id);
      if (current === undefined) throw createError('GW_ERR_USER_NOT_FOUND', 'no such user', { statusCode: 404 });
      const losesAdmin = current.role === 'admin' && !current.disabled && ((b.role !== undefined && b.role !== 'admin') || b.disabled === true);
      if (losesAdmin && (await store.countActiveAdmins()) <= 1) {
        throw createError('GW_ERR_LAST_ADMIN', 'role: this is the last admin; make another admin first', { statusCode: 400 });
      }
      const updated = await store.updateUser(current.id, {
        ...(b.role !== undefined ? { role: b.role } : {}),
        ...(b.recordings !== undefined ? { recordings: b.recordings } : {}),
        ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
        ...(b.password !== undefined ? { passwordHash: await hashPassword(b.password) } : {}),
      });
      if (updated === undefined) throw createError('GW_ERR_USER_NOT_FOUND', 'no such user', { statusCode: 404 });
      return updated;
    },
  );

  api.delete(
    '/users/:id',
    { config: { role: 'admin' }, schema: { summary: 'Delete an operator', tags: ['users'], params: idParam, response: { 204: { type: 'null' }, 400: errorSchema, 404: errorSchema } } },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const current = await store.getUser(request.params.id);
      if (current === undefined) throw createError('GW_ERR_USER_NOT_FOUND', 'no such user', { statusCode: 404 });
      if (current.role === 'admin' && (await store.countActiveAdmins()) <= 1) throw createError('GW_ERR_LAST_ADMIN', 'this is the last admin; make another admin first', { statusCode: 400 });
      await store.deleteUser(current.id);
      return reply.code(204).send();
    },
  );

  api.get(
    '/keys',
    { config: { role: 'admin' }, schema: { summary: 'List API keys (never their secrets)', tags: ['keys'], response: { 200: { type: 'object', properties: { keys: { type: 'array', items: keySchema } } } } } },
    async () => ({ keys: await store.listKeys() }),
  );

  api.post(
    '/keys',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create an API key with a role; the key is shown once',
        tags: ['keys'],
        body: { type: 'object', required: ['name', 'role'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, role, recordings: { type: 'boolean' } }, examples: [{ name: 'reporting script', role: 'viewer' }] },
        response: { 201: { type: 'object', properties: { key: { type: 'string' }, record: keySchema } }, 400: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Body: { name: string; role: Role; recordings?: boolean } }>, reply) => {
      const b = request.body;
      const created = await store.createKey({ name: b.name, role: b.role, recordings: b.recordings ?? false, createdBy: actorOf(request).name });
      return reply.code(201).send(created);
    },
  );

  api.delete(
    '/keys/:id',
    { config: { role: 'admin' }, schema: { summary: 'Revoke an API key', tags: ['keys'], params: idParam, response: { 204: { type: 'null' }, 404: errorSchema } } },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      if (!(await store.revokeKey(request.params.id))) throw createError('GW_ERR_KEY_NOT_FOUND', 'no such active key', { statusCode: 404 });
      return reply.code(204).send();
    },
  );

  api.get(
    '/audit',
    {
      config: { role: 'supervisor' },
      schema: {
        summary: 'Audit events: every change made through the API, newest first',
        tags: ['audit'],
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, before: { type: 'integer', minimum: 1 }, actor: { type: 'string', maxLength: 100 } } },
        response: { 200: { type: 'object', properties: { events: { type: 'array', items: { type: 'object', additionalProperties: true } }, nextBefore: { type: ['integer', 'null'] } } } },
      },
    },
    async (request: FastifyRequest<{ Querystring: { limit: number; before?: number; actor?: string } }>) => {
      const q = request.query;
      const events = await store.listAudit({ limit: q.limit, before: q.before, actor: q.actor });
      return { events, nextBefore: events.length === q.limit ? (events.at(-1)?.id ?? null) : null };
    },
  );
}
