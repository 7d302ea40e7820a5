// /v1/campaigns: create, list, get, update (pacing, retries, window, policies — editable while
// running, applied to the next dial), transitions with who did them, skip, live figures (REST and
// server-sent events) and the audit trail. Contacts and exports are in contactRoutes.ts, the
// do-not-call list in dncRoutes.ts.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { createError } from '../errors.ts';
import type { FlowResolver } from '../flow/resolve.ts';
import { actorOf } from './actor.ts';
import { contactRoutes } from './contactRoutes.ts';
import { dncRoutes } from './dncRoutes.ts';
import { reviewRoutes } from './reviewRoutes.ts';
import type { CampaignEngine } from './engine.ts';
import { defaultSettings, mergeSettings, settingsProblem, SETTINGS_PROPERTIES, type CampaignSettings } from './settings.ts';
import { campaignStats } from './stats.ts';
import { CAMPAIGN, CAMPAIGN_EXAMPLE, CONTACT, ID_PARAMS, PAGE_QUERY, STATS, TAG } from './schemas.ts';
import { CAMPAIGN_STATES, type CampaignState } from './records.ts';
import type { CampaignAction, CampaignStore } from './store.ts';
import type { DncStore } from './dnc.ts';

export interface CampaignRouteDeps {
  config: Pick<Config, 'carriers'>;
  store: CampaignStore;
  dnc: DncStore;
  resolver: Pick<FlowResolver, 'load'>;
  /** The local engine, woken when a campaign starts or resumes (others pick it up on their tick). */
  engine?: Pick<CampaignEngine, 'wake'>;
  /** Interval of the stats stream; default 1000 ms. */
  statsIntervalMs?: number;
}

const FLOW_ID = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' } as const;
const FLOW_VERSION = { type: ['integer', 'null'], minimum: 1, description: 'a stored version of the flow; null/absent: pinned to the latest when the campaign starts' } as const;
/** Open stats streams per process: each polls the database, so they are bounded. */
const MAX_STREAMS = 200;

type SettingsPatch = Partial<Record<keyof CampaignSettings, unknown>>;

function settingsFrom(body: Record<string, unknown>): SettingsPatch {
  const out: SettingsPatch = {};
  for (const k of Object.keys(SETTINGS_PROPERTIES) as Array<keyof CampaignSettings>) if (body[k] !== undefined) out[k] = body[k];
  return out;
}

export async function campaignRoutes(api: FastifyInstance, deps: CampaignRouteDeps): Promise<void> {
  const { store } = deps;
  let streams = 0;
  // Open stats streams end with the server: a hijacked response would otherwise hold its close.
  const open = new Set<ServerResponse>();
  api.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  // CSV bodies are streamed to the importers, never buffered whole (this scope only).
  api.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

  /** The flow (version) exists, and can do what the voicemail policy expects of it. Returns its version. */
  const checkFlow = async (flowId: string, policy: Pick<CampaignSettings, 'voicemailPolicy' | 'amd'>, version?: number | null): Promise<number | null> => {
    const found = await deps.resolver.load(flowId, version ?? undefined);
    if (found === undefined) {
      throw createError(
        'GW_ERR_FLOW_NOT_FOUND',
        version === undefined || version === null ? `flowId: no flow "${flowId}"; deploy it with POST /v1/flows first` : `flowVersion: flow "${flowId}" has no version ${version}; GET /v1/flows/${flowId}/versions lists them`,
        { statusCode: 400 },
      );
    }
    if (policy.voicemailPolicy === 'drop' && policy.amd.dropMessage === null && !Object.values(found.flow.nodes).some((n) => n.type === 'voicemail')) {
      throw createError('GW_ERR_CAMPAIGN_INVALID', `voicemailPolicy: "drop" needs amd.dropMessage or a flow with a voicemail node (flow "${flowId}" has none); set amd.dropMessage, use "hangup" or add an amd → voicemail branch`, { statusCode: 400 });
    }
    return found.version;
  };

  api.post<{ Body: Record<string, unknown> & { name: string; flowId: string; flowVersion?: number | null; carrier?: 'twilio' | 'signalwire' } }>(
    '/campaigns',
    {
      schema: {
        summary: 'Create a campaign (draft): a flow, caller ids, pacing, retries, calling window, voicemail policy',
        tags: [TAG],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'flowId', 'callerIds'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, flowId: FLOW_ID, flowVersion: FLOW_VERSION, carrier: { type: 'string', enum: ['twilio', 'signalwire'] }, ...SETTINGS_PROPERTIES },
          examples: [CAMPAIGN_EXAMPLE, { ...CAMPAIGN_EXAMPLE, name: 'Pinned reminders', flowVersion: 3 }],
        },
        response: { 201: CAMPAIGN },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const settings = mergeSettings(defaultSettings(), settingsFrom(body));
      const problem = settingsProblem(settings);
      if (problem !== undefined) throw createError('GW_ERR_CAMPAIGN_INVALID', problem, { statusCode: 400 });
      const flowVersion = body.flowVersion ?? null;
      await checkFlow(body.flowId, settings, flowVersion);
      const carrier = body.carrier ?? (deps.config.carriers.twilio ? 'twilio' : deps.config.carriers.signalwire ? 'signalwire' : 'twilio');
      const campaign = await store.create({ name: body.name, flowId: body.flowId, flowVersion, carrier, settings }, actorOf(request));
      return reply.code(201).send(campaign);
    },
  );

  api.get<{ Querystring: { state?: CampaignState; limit: number; cursor?: string } }>(
    '/campaigns',
    {
      schema: {
        summary: 'List campaigns, newest first',
        tags: [TAG],
        querystring: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', enum: [...CAMPAIGN_STATES] }, ...PAGE_QUERY } },
        response: { 200: { type: 'object', properties: { campaigns: { type: 'array', items: CAMPAIGN }, nextCursor: { type: ['string', 'null'] } } } },
      },
    },
    async (request) => store.list(request.query),
  );

  api.get<{ Params: { id: string } }>(
    '/campaigns/:id',
    { schema: { summary: 'A campaign with its settings', tags: [TAG], params: ID_PARAMS, response: { 200: CAMPAIGN } } },
    async (request) => store.mustGet(request.params.id),
  );

  api.patch<{ Params: { id: string }; Body: Record<string, unknown> & { name?: string; flowId?: string; flowVersion?: number | null } }>(
    '/campaigns/:id',
    {
      schema: {
        summary: 'Change a campaign (also while it runs: the next dial uses the new values)',
        description:
          'A campaign dials the flow version pinned when it started; deploying a new version of the flow does not change it. ' +
          'To move it, send `flowVersion` (a version number, or null for the latest now — on a draft, null pins the latest at start). ' +
          'A new `flowId` without `flowVersion` pins that flow\'s latest version (at start for a draft).',
        tags: [TAG],
        params: ID_PARAMS,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, flowId: FLOW_ID, flowVersion: FLOW_VERSION, ...SETTINGS_PROPERTIES },
          examples: [{ pacing: { callsPerMinute: 20 }, voicemailPolicy: 'hangup' }, { flowVersion: 4 }, { flowVersion: null }],
        },
        response: { 200: CAMPAIGN },
      },
    },
    async (request) => {
      const body = request.body;
      let flowVersion: number | null | undefined = body.flowVersion;
      if (body.flowId !== undefined || body.voicemailPolicy !== undefined || body.amd !== undefined || 'flowVersion' in body) {
        const current = await store.mustGet(request.params.id);
        const flowId = body.flowId ?? current.flowId;
        // Another flow: its own version, not the old flow's number.
        if (flowVersion === undefined && flowId !== current.flowId) flowVersion = null;
        const policy = mergeSettings(current, { voicemailPolicy: body.voicemailPolicy, amd: body.amd });
        const latest = await checkFlow(flowId, policy, flowVersion === undefined ? current.flowVersion : flowVersion);
        // A campaign that has started always has its version pinned: null asks for the latest now.
        if (flowVersion === null && current.state !== 'draft') flowVersion = latest;
      }
      const patch = { settings: settingsFrom(body), ...(body.name ? { name: body.name } : {}), ...(body.flowId ? { flowId: body.flowId } : {}), ...(flowVersion !== undefined ? { flowVersion } : {}) };
      return store.update(request.params.id, patch, actorOf(request), settingsProblem);
    },
  );

  for (const action of ['start', 'pause', 'resume', 'stop'] as const satisfies readonly CampaignAction[]) {
    api.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
      `/campaigns/:id/${action}`,
      {
        schema: {
          summary: `${action[0]?.toUpperCase()}${action.slice(1)} a campaign`,
          description:
            action === 'pause'
              ? 'Stops new dials at once; calls in progress go on.'
              : action === 'stop'
                ? 'Ends the campaign for good; calls in progress go on.'
                : action === 'resume'
                  ? 'Dials again from where it left; contacts already dialed are not dialed again.'
                  : 'Starts dialing within the pacing and windows.',
          tags: [TAG],
          params: ID_PARAMS,
          body: { type: ['object', 'null'], additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } }, examples: [{ reason: 'list reviewed' }] },
          response: { 200: CAMPAIGN },
        },
      },
      async (request) => {
        if (action === 'start' || action === 'resume') {
          const c = await store.mustGet(request.params.id);
          if (c.callerIds.length === 0) throw createError('GW_ERR_CAMPAIGN_INVALID', 'callerIds: set at least one caller id (PATCH the campaign) before starting', { statusCode: 400 });
          const creds = c.carrier === 'twilio' ? deps.config.carriers.twilio : deps.config.carriers.signalwire;
          if (creds === undefined) throw createError('GW_ERR_CARRIER_UNAVAILABLE', `no ${c.carrier} credentials: set them in the configuration before starting`, { statusCode: 409 });
        }
        // Starting pins the flow version (the latest now, unless the campaign names one).
        const pin = action === 'start' ? await checkFlow((await store.mustGet(request.params.id)).flowId, { voicemailPolicy: 'continue', amd: defaultSettings().amd }) : undefined;
        const campaign = await store.transition(request.params.id, action, actorOf(request), request.body?.reason, pin);
        if (campaign.state === 'running') deps.engine?.wake();
        return campaign;
      },
    );
  }

  api.post<{ Params: { id: string }; Body: { contactId?: string } | undefined }>(
    '/campaigns/:id/skip',
    {
      schema: {
        summary: 'Skip a named contact, or the next one due',
        tags: [TAG],
        params: ID_PARAMS,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { contactId: { type: 'string', maxLength: 64 } }, examples: [{ contactId: '6b0f1c7e-0000-4000-8000-000000000000' }] },
        response: { 200: CONTACT },
      },
    },
    async (request) => {
      await store.mustGet(request.params.id);
      return store.skip(request.params.id, request.body?.contactId, actorOf(request));
    },
  );

  api.get<{ Params: { id: string } }>(
    '/campaigns/:id/stats',
    { schema: { summary: 'Live figures: contacts by state, attempts by outcome, dials/min, rates, in flight', tags: [TAG], params: ID_PARAMS, response: { 200: STATS } } },
    async (request) => {
      const stats = await campaignStats(store.db, request.params.id);
      if (stats === null) throw createError('GW_ERR_CAMPAIGN_NOT_FOUND', `no campaign ${request.params.id}; list them with GET /v1/campaigns`, { statusCode: 404 });
      return stats;
    },
  );

  api.get<{ Params: { id: string } }>(
    '/campaigns/:id/stats/stream',
    {
      schema: {
        summary: 'Live figures as server-sent events (`event: stats`, data as GET .../stats), every second',
        tags: [TAG],
        params: ID_PARAMS,
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      await store.mustGet(request.params.id);
      if (streams >= MAX_STREAMS) throw createError('GW_ERR_CAMPAIGN_STREAMS', `too many open stats streams (${MAX_STREAMS}); close some or poll GET .../stats`, { statusCode: 503 });
      streams++;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      let closed = false;
      let timer: NodeJS.Timeout | undefined;
      open.add(res);
      const push = async (): Promise<void> => {
        try {
          const stats = await campaignStats(store.db, request.params.id);
          if (closed) return;
          if (stats !== null) res.write(`event: stats\ndata: ${JSON.stringify(stats)}\n\n`);
        } catch (err) {
          request.log.warn({ err }, 'stats stream query failed');
          if (!closed) res.write(': database unavailable, retrying\n\n');
        }
        if (!closed) timer = setTimeout(() => void push(), deps.statsIntervalMs ?? 1000);
      };
      request.raw.on('close', () => {
        closed = true;
        open.delete(res);
        streams--;
        clearTimeout(timer);
      });
      await push();
    },
  );

  api.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>(
    '/campaigns/:id/events',
    {
      schema: {
        summary: 'The campaign\'s transitions and changes, with who did them (oldest first)',
        tags: [TAG],
        params: ID_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { ...PAGE_QUERY, cursor: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
        response: {
          200: {
            type: 'object',
            properties: {
              events: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, at: { type: 'string' }, actor: { type: 'string' }, type: { type: 'string' }, data: { type: 'object', additionalProperties: true } } } },
              nextCursor: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    async (request) => {
      await store.mustGet(request.params.id);
      return store.events(request.params.id, { limit: request.query.limit, ...(request.query.cursor ? { after: Number(request.query.cursor) } : {}) });
    },
  );

  await contactRoutes(api, { store });
  await reviewRoutes(api, { pool: store.db, wake: () => deps.engine?.wake() });
  await dncRoutes(api, { dnc: deps.dnc });
}
