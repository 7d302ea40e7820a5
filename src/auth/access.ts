// The one access hook of the /v1 scope: authenticates (API key in `Authorization: Bearer`, or the
// session cookie), checks the CSRF token on every state-changing request made with a cookie, and
// enforces the route's role and permission. Routes written by anyone are covered by registering in
// the scope; they only declare `config.role` / `config.permission` when the default does not fit.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { atLeast, isSafeMethod, mayHearRecordings, requiredRole, type Actor } from './actor.ts';
import type { AuthStore } from './store.ts';

export const SESSION_COOKIE = 'gw_session';
export const CSRF_HEADER = 'x-csrf-token';

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const sameSecret = (a: string, b: string): boolean => timingSafeEqual(sha(a), sha(b));

/** The actor for the deployment's own API key (API_KEY or data/api-key): always admin. */
export const DEFAULT_KEY_ACTOR: Actor = { kind: 'key', id: 'api-key', name: 'API_KEY', role: 'admin', recordings: true };

declare module 'fastify' {
  interface FastifyRequest {
    /** The session's CSRF token (cookie sessions only). */
    csrfToken: string | undefined;
  }
}

export interface AccessOptions {
  store: AuthStore;
  /** The deployment's own key (admin). */
  apiKey: string;
}

function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).send({ code, message });
}

export function accessControl(api: FastifyInstance, opts: AccessOptions): void {
  api.decorateRequest('actor', undefined);
  api.decorateRequest('csrfToken', undefined);

  const authenticate = async (request: FastifyRequest): Promise<{ actor: Actor; csrf?: string } | undefined> => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (given === '') return undefined;
      if (sameSecret(given, opts.apiKey)) return { actor: DEFAULT_KEY_ACTOR };
      const key = await opts.store.findKey(given);
      return key === undefined ? undefined : { actor: { kind: 'key', id: key.id, name: key.name, role: key.role, recordings: key.recordings } };
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie === undefined || cookie === '') return undefined;
    const session = await opts.store.findSession(cookie);
    if (session === undefined) return undefined;
    const u = session.user;
    return { actor: { kind: 'user', id: u.id, name: u.name, role: u.role, recordings: u.recordings }, csrf: session.csrfToken };
  };

  api.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.auth === 'public') return undefined;
    const found = await authenticate(request);
    if (found === undefined) {
      request.log.warn({ path: request.routeOptions.url, ip: request.ip }, 'rejected API request: not signed in and no valid API key');
      return refuse(reply, 401, 'GW_ERR_UNAUTHORIZED', 'sign in, or send an API key as "Authorization: Bearer <key>" (see data/api-key or the API_KEY variable)');
    }
    const { actor } = found;
    request.actor = actor;
    request.csrfToken = found.csrf;
    // A cookie is sent by the browser on its own, so a change made with one must also carry the
    // session's token, which only our pages can read. API keys are never sent implicitly: exempt.
    if (actor.kind === 'user' && !isSafeMethod(request.method)) {
      const given = request.headers[CSRF_HEADER];
      if (typeof given !== 'string' || found.csrf === undefined || !sameSecret(given, found.csrf)) {
        return refuse(reply, 403, 'GW_ERR_CSRF', `send the session's CSRF token in the ${CSRF_HEADER} header (from GET /v1/auth/session)`);
      }
    }
    const needed = requiredRole(request.method, config.role);
    if (!atLeast(actor.role, needed)) {
      return refuse(reply, 403, 'GW_ERR_FORBIDDEN', `this needs the ${needed} role; ${actor.name} is ${actor.role}`);
    }
    if (config.permission === 'recordings' && !mayHearRecordings(actor)) {
      return refuse(reply, 403, 'GW_ERR_FORBIDDEN', 'hearing recordings needs the recordings grant (ask an admin)');
    }
    return undefined;
  });
}
