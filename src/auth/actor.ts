// Who is making a /v1 request: a signed-in user (cookie session) or an API key. Decorated on every
// authenticated request as `request.actor` for routes and hooks that need to say who did something.
import type { Role } from '../fastifyTypes.ts';

export interface Actor {
  kind: 'user' | 'key';
  id: string;
  name: string;
  role: Role;
  /** May hear recordings and listen in (always for supervisors and admins). */
  recordings: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | undefined;
  }
  interface FastifyContextConfig {
    /** `public`: reachable without signing in (the sign-in route itself). */
    auth?: 'public';
  }
}

const RANK: Record<Role, number> = { viewer: 0, supervisor: 1, admin: 2 };

export const atLeast = (role: Role, required: Role): boolean => RANK[role] >= RANK[required];

export const mayHearRecordings = (actor: Pick<Actor, 'role' | 'recordings'>): boolean => actor.role !== 'viewer' || actor.recordings;

export const isSafeMethod = (method: string): boolean => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

/** The least role a request needs: the route's `config.role`, else viewer for reads and supervisor for changes. */
export function requiredRole(method: string, configured: Role | undefined): Role {
  return configured ?? (isSafeMethod(method) ? 'viewer' : 'supervisor');
}
