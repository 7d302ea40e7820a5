// The composition root: turns a Config into the running parts the app is built from — database,
// event log, secrets, carrier clients, providers (STT/LLM/TTS with the offline voice as the last
// fallback), the call starter (detectors, then the flow) per call — and closes them in order.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { createAgentNodeRunner } from './agent/agentNodeRunner.ts';
import { ensureFirstAdmin } from './auth/bootstrap.ts';
import { AuthStore } from './auth/store.ts';
import type { TextToSpeech } from './agent/providers.ts';
import type { TtsCache } from './agent/tts/cache.ts';
import { PromptWarmer, staticPrompts, warmShippedPrompts } from './agent/tts/promptWarmer.ts';
import type { AppDeps } from './app.ts';
import { createCallStarter } from './call/callStarter.ts';
import { applyCampaignPolicyWhenRead, campaignOf } from './campaign/callPolicy.ts';
import { DncStore } from './campaign/dnc.ts';
import { CampaignEngine } from './campaign/engine.ts';
import { CampaignStore } from './campaign/store.ts';
import type { Config } from './config.ts';
import { AudioFolder } from './flow/audio.ts';
import { createFlowStarter } from './flow/flowStarter.ts';
import { createFlowResolver, departmentDirectory } from './flow/resolve.ts';
import type { FlowDefinition } from './flow/types.ts';
import { CallWrites } from './gateway/callWrites.ts';
import { watchBreakers } from './observability/metrics.ts';
import { PostCallAnalyzer } from './analytics/postCallAnalysis.ts';
import { carrierActionsFor, carrierClientsFromConfig } from './gateway/carrierClients.ts';
import { loadOrCreateSecret } from './secrets.ts';
import { AnnouncingFlowStore } from './store/announcingFlowStore.ts';
import { parseHttpAllowList } from './flow/httpAllowList.ts';
import { cachedFlowReads } from './store/cachedFlowReads.ts';
import { ROUTING_CHANNEL } from './store/changeFeed.ts';
import { InstanceMonitor } from './store/instances.ts';
import { CALL_WRITE_BATCH_MS, CallStore, type CallRecord } from './store/calls.ts';
import { PLACED_CALLS_CHANNEL, PlacedCalls } from './store/placedCalls.ts';
import { ReadCache } from './store/readCache.ts';
import { openDatabase, type Database } from './store/db.ts';
import { EMBEDDED_FLUSH_INTERVAL_MS, EventLog } from './store/eventLog.ts';
import { FlowStore } from './store/flows.ts';

/** Longest wall time inbound audio is held for a flow to start (database or disk being slow). */
const FLOW_START_WAIT_MS = 3000;
/** How long the start waits for the default and routed flows' prompts before listening anyway. */
const START_PROMPTS_WAIT_MS = 3000;
/** How long a call's set-up waits for a database read before using what it knows. */
const SETUP_READ_TIMEOUT_MS = 800;
/**
 * How long a flow definition or number route is served from memory without asking the database.
 * Changes invalidate the cache at once (LISTEN/NOTIFY); the TTL only bounds staleness while the
 * change feed is disconnected.
 */
const FLOW_CACHE_TTL_MS = 5000;

export interface Composition {
  appDeps: Omit<AppDeps, 'logger'>;
  /** Resolves once the shipped flows' static prompts are synthesized (the first calls then start at once). */
  warmedUp: Promise<void>;
  /** Where the generated API key was stored (undefined when API_KEY is set). */
  apiKeyFile: string | undefined;
  /** Where the first admin's password was written, when this start created the admin. */
  adminPasswordFile: string | undefined;
  /** This process's instance: heartbeat, and reconciliation of lost ones (register onInstanceLost here). */
  instances: InstanceMonitor;
  /** The campaign dialer of this process (undefined when CAMPAIGN_ENGINE=false). */
  campaignEngine: CampaignEngine | undefined;
  /** Closes everything; `budgetMs` bounds the wait for call writes still retrying (default 2 000). Worst case ≈ budgetMs + 2 s. */
  close(budgetMs?: number): Promise<void>;
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

export interface CompositionOptions {
  /** An open database to use (tests); the runtime then leaves closing it to the caller. */
  db?: Database;
  /** Fixed API key (tests); default: API_KEY or the key stored in the data folder. */
  apiKey?: string;
  /** This process's instance id (tests); default: a new random UUID per process (per cluster worker). */
  instanceId?: string;
}

/** Waits for `work` at most `ms`; on time-out calls `onLate` and resolves anyway. */
async function withinMs(work: Promise<unknown> | undefined, ms: number, onLate: () => void): Promise<void> {
  if (work === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  const result = await Promise.race([work.then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (result === 'late') onLate();
}

export async function composeGateway(config: Config, log: Logger, opts: CompositionOptions = {}): Promise<Composition> {
  const p = config.providers;
  const { runAgent, providers } = createAgentNodeRunner({
    ...(p.openaiApiKey ? { openaiApiKey: p.openaiApiKey } : {}),
    ...(p.openaiBaseUrl ? { openaiBaseUrl: p.openaiBaseUrl } : {}),
    ...(p.elevenlabsApiKey ? { elevenlabsApiKey: p.elevenlabsApiKey } : {}),
    ...(p.elevenlabsBaseUrl ? { elevenlabsBaseUrl: p.elevenlabsBaseUrl } : {}),
    elevenlabsVoiceId: p.elevenlabsVoiceId,
    ...(p.elevenlabsModelId ? { elevenlabsModelId: p.elevenlabsModelId } : {}),
    elevenlabsTokenStreaming: p.elevenlabsTokenStreaming,
    ...(p.openaiLlmModel ? { openaiLlmModel: p.openaiLlmModel } : {}),
    ...(p.openaiSttModel ? { openaiSttModel: p.openaiSttModel } : {}),
    ...(p.openaiTtsModel ? { openaiTtsModel: p.openaiTtsModel } : {}),
    ...(p.openaiTtsVoice ? { openaiTtsVoice: p.openaiTtsVoice } : {}),
    ...(p.ttsOrder ? { ttsOrder: p.ttsOrder } : {}),
    ttsCacheDir: path.join(config.dataDir, 'prompt-cache'),
  });
  // The shipped flows' prompts are synthesized (or read from the data folder) while the database opens.
  const earlyWarm = new AbortController();
  const shippedWarm = warmShippedPrompts(providers.ttsCache, config.flowsDir, config.defaultFlowId, earlyWarm.signal).catch((err: unknown) => {
    if (!earlyWarm.signal.aborted) log.warn({ err }, 'warming the shipped prompts failed');
  });
  const ownsDb = opts.db === undefined;
  let db: Database;
  try {
    db = opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log, startWaitMs: config.databaseStartWaitMs }));
  } catch (err) {
    earlyWarm.abort();
    await providers.close();
    throw err;
  }
  // The drain has already flushed (see shutdownPlan); close() only gives the last events a moment.
  const eventLog = new EventLog({ db: db.pool, log, maxBuffered: config.eventBufferMax, closeTimeoutMs: 1_000, ...(db.kind === 'pglite' ? { flushIntervalMs: EMBEDDED_FLUSH_INTERVAL_MS } : {}) });
  const instanceId = opts.instanceId ?? randomUUID();
  // Outbound calls placed lately (here or by another worker, announced on the change feed): their
  // webhook and stream start need no database read.
  const placed = new PlacedCalls();
  // Stream starts, flows and AMD verdicts of concurrent calls share a statement: waiting as long as the event
  // log's batches costs the record nothing and saves a round trip per call joining one.
  const calls = new CallStore(db.pool, { instanceId, placed, batchWindowMs: db.kind === 'pglite' ? EMBEDDED_FLUSH_INTERVAL_MS : CALL_WRITE_BATCH_MS });
  const stopPlacedCalls = db.changes.subscribe(PLACED_CALLS_CHANNEL, (payload) => {
    const unannounced = placed.receive(payload);
    // Too big for a notification: read back while the database answers, so it is here for the webhook.
    if (unannounced !== undefined) void calls.get(unannounced.readId).then((call) => call !== null && placed.remember(call), () => undefined);
  });
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
  // Call set-up reads go through a short cache with a bounded wait: a stalled database must not keep a
  // new call from its flow (the API's writes and reads still go to the store directly).
  // Once the database is known to be stalled (nothing answered for 1 s), set-up reads stop waiting for it.
  const stalledMs = (): number => db.progress.stalledMs();
  const flowReads = cachedFlowReads(flows, { ttlMs: FLOW_CACHE_TTL_MS, timeoutMs: SETUP_READ_TIMEOUT_MS, stalledMs });
  const stopRoutingChanges = db.changes.subscribe(ROUTING_CHANNEL, (change) => flowReads.invalidate(change));
  const apiFlows = new AnnouncingFlowStore(db.pool, (change) => flowReads.invalidate(change));
  const resolver = createFlowResolver({
    flows: flowReads,
    defaultFlowId: config.defaultFlowId,
    builtinDir: config.flowsDir,
  });
  const tts = cachedTts(providers.ttsCache, providers.tts.name);
  watchBreakers(() => providers.breakers);
  // Post-call analysis needs an LLM: without an OpenAI key calls simply have no analysis.
  const analyzer = p.openaiApiKey
    ? new PostCallAnalyzer({ apiKey: p.openaiApiKey, ...(p.openaiBaseUrl ? { baseURL: p.openaiBaseUrl } : {}), model: p.openaiLlmModel ?? 'gpt-4o-mini', db: db.pool, eventLog, log })
    : undefined;
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
  const outboundVariables = new ReadCache<CallRecord | null>({ ttlMs: 0, timeoutMs: SETUP_READ_TIMEOUT_MS, maxEntries: 100, stalledMs });
  /** An outbound call's record: from memory when placed lately on this machine, else the database (bounded wait). */
  const outboundRecord = (callId: string): Promise<CallRecord | null> => {
    const known = placed.get(callId);
    return known !== undefined ? Promise.resolve(known) : outboundVariables.get(callId, () => calls.get(callId), null);
  };
  const httpAllowList = parseHttpAllowList(config.flowHttpAllowHosts).list;
  const program = createFlowStarter({
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
      const call = await outboundRecord(claims.callId);
      if (call === null) log.warn({ callId: claims.callId }, 'outbound call variables unavailable in time; the flow runs without them');
      const vars = call?.metadata.variables;
      return vars !== null && typeof vars === 'object' ? (vars as Record<string, unknown>) : undefined;
    },
    flowVersion: async (claims) => {
      if (claims.direction !== 'outbound') return undefined;
      const call = await outboundRecord(claims.callId);
      return call?.flowVersion ?? undefined;
    },
    onResolved: (callId, flowId, version) => {
      void writes.enqueue(callId, 'recording the flow of a call', () => calls.setFlow({ id: callId }, flowId, version));
    },
    log,
  });
  const startCall = createCallStarter(program, {
    flowStartWaitMs: FLOW_START_WAIT_MS,
    onStart: (session, claims) => {
      if (claims.direction !== 'outbound') return;
      // A campaign call carries its voicemail policy on its record (read once, shared with the flow's variables).
      const campaign = outboundRecord(claims.callId).then((call) => campaignOf(call?.metadata));
      applyCampaignPolicyWhenRead(session, campaign, {
        leaveMessage: (flow) => program.takeOver(session, flow, 'campaign_voicemail_drop'),
        onError: (err) => log.warn({ err, callId: claims.callId }, 'campaign voicemail policy failed'),
      });
    },
  });

  const campaignStore = new CampaignStore(db.pool);
  const dnc = new DncStore(db.pool);
  const campaignEngine = config.campaigns.engineEnabled
    ? new CampaignEngine({
        pool: db.pool,
        calls,
        clients,
        config,
        streamTokenSecret,
        instanceId,
        log,
        tickMs: config.campaigns.tickMs,
        accountCps: config.campaigns.carrierCallsPerSecond,
        staleClaimMs: config.campaigns.staleClaimMs,
        // Embedded PGlite serves one process: only this one's API starts campaigns (and wakes the dialer).
        exclusive: db.kind === 'pglite',
        // Elsewhere a campaign started by another worker or instance wakes it through the feed.
        changes: db.changes,
      })
    : undefined;
  // A lost instance's dial attempts are reconciled by whichever live instance closes its calls.
  if (campaignEngine !== undefined) {
    instances.onInstanceLost(async (lost) => {
      const r = await campaignEngine.reconcileLostInstance(lost);
      log.info({ lostInstance: lost, ...r }, 'reconciled the dial attempts of a lost instance');
    });
  }
  // Started once every onInstanceLost handler is registered: its first tick may reconcile at once.
  await instances.start();
  log.info({ instanceId }, 'instance registered');
  campaignEngine?.start();

  // Compile the flow schema and load the default flow now rather than on the first call.
  const defaultFlow = await resolver.load(config.defaultFlowId).catch((err: unknown) => {
    log.warn({ err, flowId: config.defaultFlowId }, 'the default flow could not be loaded');
    return undefined;
  });
  // Warm the prompt cache: the shipped flows, and every flow a number routes to (from the prompt files of
  // an earlier run or another worker, so a restart is a disk read), then every flow deployed or routed
  // anywhere (announced on the change feed) — once per machine.
  const warmer = new PromptWarmer({ cache: providers.ttsCache, flows, log });
  // What a call can hear first — the default flow (every unrouted call) and every routed flow — is ready
  // before the port opens. On the embedded database the shipped flows were said while it opened
  // (warmShippedPrompts); a database that opens at once (PostgreSQL), or a new instance with an empty data
  // folder joining a deployment, would otherwise leave its first calls racing the voice. A restart reads
  // them from the data folder. Bounded: a slow voice or database delays the start, never blocks it.
  const callPrompts = (async () => [...(defaultFlow === undefined ? [] : staticPrompts(defaultFlow.flow)), ...(await warmer.routedPrompts())])();
  await withinMs(
    callPrompts.then((texts) => providers.ttsCache.prefetch(texts, earlyWarm.signal)).catch(() => undefined),
    START_PROMPTS_WAIT_MS,
    () => log.warn({ waitedMs: START_PROMPTS_WAIT_MS }, 'the prompts of the default and routed flows were not all ready in time; listening anyway'),
  );
  // The start's prompts are on disk once warmed: the offline voice loaded to synthesize them (~90 MB)
  // is let go at once rather than after its idle period, so a worker idles at its base.
  const warmedUp = warmer
    .warmAtStart(config.flowsDir)
    .then(() => providers.releaseIdleEngines())
    .catch((err: unknown) => log.warn({ err }, 'letting go of the offline voice failed'));
  const stopWarmingChanges = db.changes.subscribe(ROUTING_CHANNEL, (change) => warmer.onChange(change));
  const prefetchFlow = (flow: FlowDefinition): void => void warmer.warmFlow(flow, 'deployed here');

  return {
    appDeps: {
      config,
      db,
      calls,
      eventLog,
      apiKey,
      streamTokenSecret,
      program: startCall,
      writes,
      ...(analyzer ? { analyzer } : {}),
      carrierActions,
      routes: {
        flows: apiFlows,
        capabilities: { speech: providers.stt !== undefined, agent: providers.llm !== undefined, httpAllowList },
        onDeployed: prefetchFlow,
        clients,
        resolver,
        campaigns: { store: campaignStore, dnc, ...(campaignEngine ? { engine: campaignEngine } : {}) },
      },
    },
    apiKeyFile,
    campaignEngine,
    adminPasswordFile,
    warmedUp,
    instances,
    close: async (budgetMs = 2_000) => {
      stopWarmingChanges();
      earlyWarm.abort();
      await withinMs(Promise.all([shippedWarm, warmer.close()]), 1_000, () => log.warn('warming prompts did not stop in time; closing anyway'));
      // A dialer tick stuck on a database that never answers must not hold the shutdown.
      await withinMs(campaignEngine?.close(), 2_000, () => log.warn('the campaign dialer did not stop in time; closing anyway'));
      stopRoutingChanges();
      stopPlacedCalls();
      await program.settle();
      await analyzer?.close();
      await providers.close();
      await writes.close(budgetMs);
      await eventLog.close();
      await instances.stop();
      if (ownsDb) await db.close();
    },
  };
}
