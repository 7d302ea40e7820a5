// The dashboard, served by the gateway itself: the page shell and its ES modules from src/web/public,
// and the libraries they import straight from their npm packages (no CDN, no bundler, no build).
// Its data comes from the /v1 API with the same access checks as every other client (DESIGN 13);
// `dashboardApi` adds the few /v1 routes only live views need (SSE of calls, listen-in, exit counts).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway/handle.ts';
import type { Queryable } from '../store/db.ts';
import { flowExitRoutes } from './flowExits.ts';
import { liveRoutes } from './live.ts';

const require = createRequire(import.meta.url);
/** A package's folder: up from its main entry to its package.json (some packages do not export that file). */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (dir !== path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the folder of the ${name} package`);
}

/** The browser's import map names these; each is a folder of one package. */
export const VENDOR: Record<string, string> = {
  preact: path.join(packageDir('preact'), 'dist'),
  'preact-hooks': path.join(packageDir('preact'), 'hooks', 'dist'),
  htm: path.join(packageDir('htm'), 'dist'),
  uplot: path.join(packageDir('uplot'), 'dist'),
  dagre: path.join(packageDir('@dagrejs/dagre'), 'dist'),
};

export const PUBLIC_DIR = path.join(import.meta.dirname, 'public');

/** The CSP source allowing exactly the page's inline import map (browsers need it inline). */
function importMapHash(): string {
  const page = readFileSync(path.join(PUBLIC_DIR, 'index.html'), 'utf8');
  const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
  return `'sha256-${createHash('sha256').update(map).digest('base64')}'`;
}

export async function dashboard(app: FastifyInstance): Promise<void> {
  // Pages are static; every datum comes from /v1. Security headers: no framing (clickjacking), no
  // inline or foreign scripts (but the import map, by its hash).
  const csp = `default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; script-src 'self' ${importMapHash()}; connect-src 'self'; frame-ancestors 'none'`;
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/v1/')) return;
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('content-security-policy', csp);
  });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', index: 'index.html', wildcard: true, cacheControl: true, maxAge: 0 });
  for (const [name, dir] of Object.entries(VENDOR)) {
    await app.register(fastifyStatic, { root: dir, prefix: `/vendor/${name}/`, decorateReply: false, maxAge: '1h', immutable: false });
  }
}

export interface DashboardApiOptions {
  gateway: () => Gateway;
  db: Queryable;
}

export async function dashboardApi(api: FastifyInstance, opts: DashboardApiOptions): Promise<void> {
  await liveRoutes(api, { gateway: opts.gateway });
  await flowExitRoutes(api, { db: opts.db });
}
