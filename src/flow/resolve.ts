// Which flow a call runs. An explicit flow id (an outbound call's, or a stream parameter) wins; an
// inbound call routes by the called number; an unknown number gets the configured default flow.
// Flows deployed through the API live in the store; the example flows shipped in flows/ are a
// read-only fallback by id (so `default` and the examples run on a fresh install and under replay).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createError } from '../errors.ts';
import type { FlowStore } from '../store/flows.ts';
import type { DepartmentDirectory } from './context.ts';
import type { FlowDefinition } from './types.ts';
import { formatIssue, validateFlow } from './validate.ts';

export const BUILTIN_FLOWS_DIR = fileURLToPath(new URL('../../flows/', import.meta.url));
export const DEFAULT_FLOW_ID = 'default';
const FLOW_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface FlowResolverDeps {
  /** The store; absent → only the shipped flows (replay without a database). */
  flows?: Pick<FlowStore, 'get' | 'getNumber'> | undefined;
  /** Flow for numbers without a route. Default 'default' (flows/default.json unless deployed). */
  defaultFlowId?: string | undefined;
  /** Folder of shipped flows. Default: the repository's flows/. */
  builtinDir?: string | undefined;
}

export interface CallFlowRequest {
  /** The called number (inbound) — used when no flow id is given. */
  to: string;
  flowId?: string | undefined;
  version?: number | undefined;
}

export interface ResolvedFlow {
  flow: FlowDefinition;
  flowId: string;
  /** The stored version, or null for a shipped flow. */
  version: number | null;
  source: 'explicit' | 'number' | 'default';
}

export interface FlowResolver {
  resolve(req: CallFlowRequest): Promise<ResolvedFlow>;
  /** Latest version of a flow (store first, then shipped), for department fallbacks; or a stored version. */
  load(id: string, version?: number): Promise<{ flow: FlowDefinition; version: number | null } | undefined>;
}

export function createFlowResolver(deps: FlowResolverDeps): FlowResolver {
  const dir = deps.builtinDir ?? BUILTIN_FLOWS_DIR;
  const builtins = new Map<string, Promise<FlowDefinition | undefined>>();

  // Only flows found are cached (bounded by the files shipped); a miss is not remembered, so ids
  // asked for that do not exist cannot grow the cache.
  const builtin = (id: string): Promise<FlowDefinition | undefined> => {
    let p = builtins.get(id);
    if (p === undefined) {
      p = loadBuiltin(dir, id);
      builtins.set(id, p);
      p.then(
        (flow) => {
          if (flow === undefined) builtins.delete(id);
        },
        () => builtins.delete(id),
      );
    }
    return p;
  };

  const load = async (id: string, version?: number): Promise<{ flow: FlowDefinition; version: number | null } | undefined> => {
    const stored = await deps.flows?.get(id, version);
    if (stored !== undefined) return { flow: stored.definition, version: stored.version };
    if (version !== undefined) return undefined;
    const shipped = await builtin(id);
    return shipped === undefined ? undefined : { flow: shipped, version: null };
  };

  return {
    load: (id, version) => load(id, version),
    async resolve(req) {
      if (req.flowId !== undefined && req.flowId !== '') {
        const found = await load(req.flowId, req.version);
        if (found === undefined) {
          throw createError(
            'GW_ERR_FLOW_NOT_FOUND',
            req.version === undefined ? `flow "${req.flowId}" does not exist` : `flow "${req.flowId}" has no version ${req.version}`,
            { statusCode: 404 },
          );
        }
        return { ...found, flowId: req.flowId, source: 'explicit' };
      }
      const route = await deps.flows?.getNumber(req.to);
      if (route !== undefined) {
        const found = await load(route.flowId, route.version ?? undefined);
        if (found !== undefined) return { ...found, flowId: route.flowId, source: 'number' };
      }
      const defaultId = deps.defaultFlowId ?? DEFAULT_FLOW_ID;
      const found = (await load(defaultId)) ?? (defaultId === DEFAULT_FLOW_ID ? undefined : await load(DEFAULT_FLOW_ID));
      if (found === undefined) {
        throw createError('GW_ERR_FLOW_NO_DEFAULT', `no flow routes ${req.to === '' ? 'this call' : 'the called number'} and the default flow "${defaultId}" does not exist`, {
          statusCode: 500,
        });
      }
      return { ...found, flowId: found.flow.id, source: 'default' };
    },
  };
}

/** Departments from the store, in the shape the runner takes. */
export function departmentDirectory(flows: Pick<FlowStore, 'getDepartment'>): DepartmentDirectory {
  return { get: (name) => flows.getDepartment(name) };
}

async function loadBuiltin(dir: string, id: string): Promise<FlowDefinition | undefined> {
  if (!FLOW_ID.test(id) || id.includes('..')) return undefined;
  let text: string;
  try {
    text = await readFile(path.join(dir, `${id}.json`), 'utf8');
  } catch {
    return undefined;
  }
  const result = validateFlow(JSON.parse(text));
  if (!result.ok || result.flow === undefined) {
    // A shipped flow that does not validate is a bug in the repository, not a caller's problem.
    throw createError('GW_ERR_FLOW_INVALID', `shipped flow ${id}.json is invalid: ${result.errors.map(formatIssue).join('; ')}`);
  }
  if (result.flow.id !== id) throw createError('GW_ERR_FLOW_INVALID', `shipped flow ${id}.json declares id "${result.flow.id}"`);
  return result.flow;
}
