// The composition root: turns a Config into the running parts the app is built from — database,
// event log, secrets, carrier clients, providers (STT/LLM/TTS with the offline voice as the last
// fallback), the flow program with detectors per call — and closes them in order.
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { createAgentRuntime } from './agent/runner.ts';
import { ensureFirstAdmin } from './auth/bootstrap.ts';
import { AuthStore } from './auth/store.ts';
import type { TextToSpeech } from './agent/providers.ts';
import type { TtsCache } from './agent/tts/cache.ts';
import { outboundCallRoutes } from './api/outboundCalls.ts';
import { departmentRoutes } from './api/departments.ts';
import { flowRoutes } from './api/flows.ts';
import { numberRoutes } from './api/numbers.ts';
import type { AppDeps, CallProgram } from './app.ts';
import { attachDetectors, defaultDetectorOptions } from './call/detectors.ts';
import type { Config } from './config.ts';
import { AudioFolder } from './flow/audio.ts';
import { flowProgram } from './flow/program.ts';
import { createFlowResolver, departmentDirectory } from './flow/resolve.ts';
import type { FlowDefinition } from './flow/types.ts';
import { CallWrites } from './gateway/callWrites.ts';
import { carrierActionsFor, carrierClientsFromConfig } from './gateway/carrierClients.ts';
import { loadOrCreateSecret } from './secrets.ts';
import { AnnouncingFlowStore } from './store/announcingFlowStore.ts';
import { parseHttpAllowList } from './flow/httpAllowList.ts';
import { cachedFlowReads } from './store/cachedFlowReads.ts';
import { ROUTING_CHANNEL } from './store/changeFeed.ts';
import { InstanceMonitor } from './store/instances.ts';
import { CallStore, type CallRecord } from './store/calls.ts';
import { ReadCache } from './store/readCache.ts';
import { openDatabase, type Database } from './store/db.ts';
import { EventLog } from './store/eventLog.ts';
import { FlowStore } from './store/flows.ts';

/** Longest wall time inbound audio is held for a flow to start (database or disk being slow). */
const FLOW_START_WAIT_MS = 3000;
/** How long a call's set-up waits for a database read before using what it knows. */
const SETUP_READ_TIMEOUT_MS = 800;
/**
 * How long a flow definition or number route is served from memory without asking the database.
 * Changes invalidate the cache at once (LISTEN/NOTIFY); the TTL only bounds staleness while the
 * change feed is disconnected.
 */
const FLOW_CACHE_TTL_MS = 5000;

export interface Runtime {
  appDeps: Omit<AppDeps, 'logger'>;
  /** Resolves once the shipped flows' static prompts are synthesized (the first calls then start at once). */
  warmedUp: Promise<void>;
  /** Where the generated API key was stored (undefined when API_KEY is set). */
  apiKeyFile: string | undefined;
  /** Where the first admin's password was written, when this start created the admin. */
  adminPasswordFile: string | undefined;
  /** This process's instance: heartbeat, and reconciliation of lost ones (register onInstanceLost here). */
  instances: InstanceMonitor;
  /** Closes everything; `budgetMs` bounds the wait for call writes still retrying (default 2 000). Worst case ≈ budgetMs + 2 s. */
  close(budgetMs?: number): Promise<void>;
}

/** Static prompts a flow will say (no templates): synthesized once at start so they play at once. */
export function staticPrompts(flow: FlowDefinition): string[] {
  const texts = new Set<string>();
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (['text', 'prompt', 'reprompt', 'message', 'greeting', 'noInputText', 'noMatchText'].includes(key) && v.trim() !== '' && !v.includes('{{')) texts.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(flow.nodes, '');
  return [...texts];
}

/** The cache as a TextToSpeech: `say` nodes and greetings reuse audio synthesized before. */
export function cachedTts(cache: TtsCache, name: string): TextToSpeech {
  return {
    name: `cached(${name})`,
    async *synthesize(text, opts) {
      yield await cache.get(text, opts);
    },
  };
}

export interface RuntimeOptions {
  /** An open database to use (tests); the runtime then leaves closing it to the caller. */
  db?: Database;
  /** Fixed API key (tests); default: API_KEY or the key stored in the data folder. */
  apiKey?: string;
  /** This process's instance id (tests); default: a new random UUID per process (per cluster worker). */
  instanceId?: string;
}

export async function createRuntime(config: Config, log: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const ownsDb = opts.db === undefined;
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log }));
  // The drain has already flushed (see shutdownPlan); close() only gives the last events a moment.
  const eventLog = new EventLog({ db: db.pool, log, maxBuffered: config.eventBufferMax, closeTimeoutMs: 1_000 });
  const instanceId = opts.instanceId ?? randomUUID();
  const calls = new CallStore(db.pool, { instanceId });
  const flows = new FlowStore(db.pool);
  let apiKey = opts.apiKey ?? config.apiKey;
  let apiKeyFile: string | undefined;
  if (apiKey === undefined) {
    const stored = await loadOrCreateSecret(config.dataDir, 'api-key', 24);
    apiKey = stored.value;
    apiKeyFile = stored.path;
    if (stored.created) log.info({ apiKeyFile }, 'created a REST API key (set API_KEY to choose your own)');
  }
  const { passwordFile: adminPasswordFile } = await ensureFirstAdmin(new AuthStore(db.pool), config.dataDir);
  if (adminPasswordFile !== undefined) log.info({ adminPasswordFile }, `created the first dashboard user "admin"; its password is in ${adminPasswordFile}`);
  const streamTokenSecret = config.streamTokenSecret ?? (await loadOrCreateSecret(config.dataDir, 'stream-token-secret')).value;
  const clients = carrierClientsFromConfig(config);
  const carrierActions = carrierActionsFor(clients);
  const p = config.providers;
  const { runAgent, providers } = createAgentRuntime({
    ...(p.openaiApiKey ? { openaiApiKey: p.openaiApiKey } : {}),
    ...(p.openaiBaseUrl ? { openaiBaseUrl: p.openaiBaseUrl } : {}),
    ...(p.elevenlabsApiKey ? { elevenlabsApiKey: p.elevenlabsApiKey } : {}),
    ...(p.elevenlabsBaseUrl ? { elevenlabsBaseUrl: p.elevenlabsBaseUrl } : {}),
    elevenlabsVoiceId: p.elevenlabsVoiceId,
    ...(p.elevenlabsModelId ? { elevenlabsModelId: p.elevenlabsModelId } : {}),
    ...(p.openaiLlmModel ? { openaiLlmModel: p.openaiLlmModel } : {}),
    ...(p.openaiSttModel ? { openaiSttModel: p.openaiSttModel } : {}),
    ...(p.openaiTtsModel ? { openaiTtsModel: p.openaiTtsModel } : {}),
    ...(p.openaiTtsVoice ? { openaiTtsVoice: p.openaiTtsVoice } : {}),
    ...(p.ttsOrder ? { ttsOrder: p.ttsOrder } : {}),
  });
  // Call set-up reads go through a short cache with a bounded wait: a stalled database must not keep a
  // new call from its flow (the API's writes and reads still go to the store directly).
  const flowReads = cachedFlowReads(flows, { ttlMs: FLOW_CACHE_TTL_MS, timeoutMs: SETUP_READ_TIMEOUT_MS });
  const stopRoutingChanges = db.changes.subscribe(ROUTING_CHANNEL, (change) => flowReads.invalidate(change));
  const apiFlows = new AnnouncingFlowStore(db.pool, (change) => flowReads.invalidate(change));
  const resolver = createFlowResolver({
    flows: flowReads,
    defaultFlowId: config.defaultFlowId,
    builtinDir: config.flowsDir,
  });
  const tts = cachedTts(providers.ttsCache, providers.tts.name);
  const writes = new CallWrites({ log });
  const instances = new InstanceMonitor({
    db: db.pool,
    log,
    instanceId,
    heartbeatMs: config.instanceHeartbeatMs,
    deadAfterMs: config.instanceDeadAfterMs,
    // Embedded PGlite serves one process: no other instance can be alive but cut off from it.
    exclusive: db.kind === 'pglite',
    hangup: async (carrier, carrierCallId) => {
      await carrierActions(carrier, carrierCallId)?.hangup();
    },
  });
  await instances.start();
  log.info({ instanceId }, 'instance registered');
  const outboundVariables = new ReadCache<CallRecord | null>({ ttlMs: 0, timeoutMs: SETUP_READ_TIMEOUT_MS, maxEntries: 100 });
  const httpAllowList = parseHttpAllowList(config.flowHttpAllowHosts).list;
  const program = flowProgram({
    resolver,
    deps: {
      tts,
      stt: providers.stt,
      agent: runAgent,
      audio: new AudioFolder(config.audioDir),
      departments: departmentDirectory(flows),
      agentTransferNumbers: config.agentTransferNumbers,
      httpAllowList,
      loadFlow: async (id) => (await resolver.load(id))?.flow,
    },
    variables: async (claims) => {
      if (claims.direction !== 'outbound') return undefined;
      // An outbound call's variables live on its record. A database that does not answer in time
      // costs the flow its variables (templates fall back to their `??` defaults), not its start.
      const call = await outboundVariables.get(claims.callId, () => calls.get(claims.callId), null);
      if (call === null) log.warn({ callId: claims.callId }, 'outbound call variables unavailable in time; the flow runs without them');
      const vars = call?.metadata.variables;
      return vars !== null && typeof vars === 'object' ? (vars as Record<string, unknown>) : undefined;
    },
    onResolved: (callId, flowId, version) => {
      void writes.enqueue(callId, 'recording the flow of a call', () => calls.setFlow({ id: callId }, flowId, version));
    },
    log,
  });
  const callProgram: CallProgram = {
    start(session, claims) {
      // Detectors start with the stream (answer) so their timeline is on the media clock from 0.
      // Outbound calls run AMD unless the call was placed with amd: false.
      const options = defaultDetectorOptions(session.direction);
      if (claims.amd === 'off') options.amd = false;
      const detach = attachDetectors(session, options);
      session.signal.addEventListener('abort', detach, { once: true });
      // Inbound audio waits (bounded) until the flow has started, so the flow and the detectors see
      // the same media timeline however long finding the flow took.
      session.holdMedia();
      const release = (): void => {
        unsubscribe();
        clearTimeout(watchdog);
        session.releaseMedia();
      };
      const unsubscribe = session.subscribe((e) => {
        if (e.type === 'flow.started' || e.type === 'flow.error') release();
      });
      const watchdog = setTimeout(release, FLOW_START_WAIT_MS);
      watchdog.unref();
      program.start(session, claims);
    },
    resolveFlowId: (to) => program.resolveFlowId(to),
  };

  // Compile the flow schema and load the default flow now rather than on the first call.
  await resolver.load(config.defaultFlowId).catch((err: unknown) => log.warn({ err, flowId: config.defaultFlowId }, 'the default flow could not be loaded'));
  // Warm the TTS cache with the shipped flows' static prompts, in the background.
  const warmup = new AbortController();
  const warmedUp = (async () => {
    const files = (await readdir(config.flowsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.json') && !f.includes('schema'));
    const texts: string[] = [];
    for (const f of files) {
      try {
        texts.push(...staticPrompts(JSON.parse(await readFile(path.join(config.flowsDir, f), 'utf8')) as FlowDefinition));
      } catch {
        // An unreadable example flow is reported when it is used, not here.
      }
    }
    await providers.ttsCache.prefetch(texts, warmup.signal);
    log.info({ prompts: texts.length }, 'prompt cache warmed');
  })().catch((err: unknown) => log.warn({ err }, 'warming the prompt cache failed'));

  return {
    appDeps: {
      config,
      db,
      calls,
      eventLog,
      apiKey,
      streamTokenSecret,
      program: callProgram,
      writes,
      carrierActions,
      apiPlugins: [
        (api) => flowRoutes(api, { flows: apiFlows, capabilities: { speech: providers.stt !== undefined, agent: providers.llm !== undefined, httpAllowList } }),
        (api) => numberRoutes(api, { flows: apiFlows }),
        (api) => departmentRoutes(api, { flows: apiFlows }),
        (api) => outboundCallRoutes(api, { config, calls, clients, resolver }),
      ],
    },
    apiKeyFile,
    adminPasswordFile,
    warmedUp,
    instances,
    close: async (budgetMs = 2_000) => {
      warmup.abort();
      stopRoutingChanges();
      await program.settle();
      await providers.close();
      await writes.close(budgetMs);
      await eventLog.close();
      await instances.stop();
      if (ownsDb) await db.close();
    },
  };
}
