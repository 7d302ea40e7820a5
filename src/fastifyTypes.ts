// Pulls in the type augmentations of the Fastify plugins we register (route `websocket: true`,
// schema `summary`/`tags` for the OpenAPI document), for every file of the program, and declares
// the route options our own hooks read.
import type {} from '@fastify/swagger';
import type {} from '@fastify/websocket';

/** Operator roles, weakest first: each includes what the ones before it may do. */
export type Role = 'viewer' | 'supervisor' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The least role a /v1 route needs. Default: `viewer` for GET/HEAD, `supervisor` for every other
     * method. Users and keys management is `admin`.
     */
    role?: Role;
    /** A permission beyond the role (e.g. `recordings`: viewers need it granted to hear calls). */
    permission?: 'recordings';
  }
}
