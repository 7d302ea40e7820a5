// Configuration comes only from the environment, is validated once at start, and every problem is
// reported at once with the variable's name, what is wrong, and an example of a good value.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { TRANSFER_NUMBER_ENTRY } from './agent/transferPolicy.ts';
import { parseHttpAllowList } from './flow/httpAllowList.ts';

export interface CarrierCredentials {
  twilio?: { accountSid: string; authToken: string; apiBaseUrl: string };
  signalwire?: { projectId: string; apiToken: string; signingKey: string; apiBaseUrl: string };
}

export interface Config {
  host: string;
  port: number;
  publicUrl: URL;
  databaseUrl: string | undefined;
  dataDir: string;
  apiKey: string | undefined;
  streamTokenSecret: string | undefined;
  carriers: CarrierCredentials;
  /** No carrier credentials and bound to loopback: unsigned webhooks accepted (local replay). */
  localUnauthenticated: boolean;
  maxConcurrentCalls: number;
  /**
   * Worker processes sharing the port (node cluster). 1 = the gateway runs in this process. More than
   * one needs DATABASE_URL: embedded PGlite is a single-process engine (see src/cluster/README.md).
   */
  workers: number;
  maxMessageBytes: number;
  /** Media-stream sockets not yet authenticated, in total and per client address (IPv6 per /64). */
  maxPendingStreams: number;
  maxPendingStreamsPerAddress: number;
  /** How long a start waits for PostgreSQL to answer before giving up (0: one attempt). */
  databaseStartWaitMs: number;
  drainTimeoutMs: number;
  /** The whole shutdown (drain + settle + flush + close) fits in this; see shutdownPlan(). */
  shutdownGraceMs: number;
  /** Instance heartbeat period, and the silence after which an instance counts as lost. */
  instanceHeartbeatMs: number;
  instanceDeadAfterMs: number;
  mediaTimeoutMs: number;
  recordCalls: boolean;
  /** Largest recording file; beyond it the recording stops (the call goes on). */
  recordingMaxBytes: number;
  /** Recordings older than this many days are deleted in the background; 0 keeps them. */
  recordingRetentionDays: number;
  /** Bearer token for GET /metrics from non-loopback addresses; unset: loopback only. */
  metricsToken: string | undefined;
  logLevel: string;
  /** Which proxies' X-Forwarded-For to believe (fastify's trustProxy): none, all (explicit), or addresses/CIDRs. */
  trustProxy: boolean | string[];
  flowsDir: string;
  /** Audio files `play` nodes and `say` nodes with an audio file may use. */
  audioDir: string;
  defaultFlowId: string;
  eventBufferMax: number;
  apiRateLimitPerMinute: number;
  webhookRateLimitPerMinute: number;
  /** Numbers (or `+prefix*`) every agent node may transfer to (AGENT_TRANSFER_NUMBERS). */
  agentTransferNumbers: string[];
  /** Hosts, `*.domain`s, addresses and CIDRs flow http nodes may reach (FLOW_HTTP_ALLOW_HOSTS); `*` = any public host. */
  flowHttpAllowHosts: string[];
  /** The campaign dialer (src/campaign/). */
  campaigns: {
    /** Run the dialer in this process (every instance may; they share the work through the database). */
    engineEnabled: boolean;
    /** Dials per second per carrier account, across all instances (Twilio and SignalWire default to 1). */
    carrierCallsPerSecond: number;
    tickMs: number;
    /** A claim not sent after this long is reconciled (its instance died or hangs). */
    staleClaimMs: number;
  };
  providers: {
    openaiApiKey: string | undefined;
    openaiBaseUrl: string | undefined;
    elevenlabsApiKey: string | undefined;
    elevenlabsBaseUrl: string | undefined;
    elevenlabsVoiceId: string;
    elevenlabsModelId: string | undefined;
    /** Agent answers stream LLM tokens into ElevenLabs' stream-input websocket (falls back to sentence TTS). */
    elevenlabsTokenStreaming: boolean;
    openaiLlmModel: string | undefined;
    openaiSttModel: string | undefined;
    openaiTtsModel: string | undefined;
    openaiTtsVoice: string | undefined;
    /** TTS fallback order; the offline voice is always last. */
    ttsOrder: Array<'elevenlabs' | 'elevenlabs-ws' | 'openai' | 'offline'> | undefined;
  };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * A URL as configuration errors may show it: scheme, host and path only. User, password, query and
 * fragment can hold secrets (a DATABASE_URL password, a key in a query) or phone numbers; an
 * unparsable value is not shown at all, since it may be a secret pasted in the wrong place.
 */
export function urlForMessages(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<unparsable, not shown>';
  }
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number, example: string): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max} (got "${raw}"), e.g. ${name}=${example}`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${name}: must be true or false (got "${raw}"), e.g. ${name}=true`);
    return def;
  };
  const url = (name: string, protocols: string[], example: string): URL | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return u;
    } catch {
      problems.push(`${name}: must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL (got "${urlForMessages(raw)}"), e.g. ${name}=${example}`);
      return undefined;
    }
  };
  const paired = (a: string, b: string, exampleA: string, exampleB: string): [string, string] | undefined => {
    const va = str(a);
    const vb = str(b);
    if (va === undefined && vb === undefined) return undefined;
    if (va === undefined) problems.push(`${a}: required when ${b} is set, e.g. ${a}=${exampleA}`);
    if (vb === undefined) problems.push(`${b}: required when ${a} is set, e.g. ${b}=${exampleB}`);
    return va !== undefined && vb !== undefined ? [va, vb] : undefined;
  };

  /**
   * A credential group is all or nothing: a variable of the group set without the group's key (or
   * keys) would be silently ignored — e.g. SIGNALWIRE_SIGNING_KEY without the project, so every
   * webhook gets 403 with no hint. Name what is missing instead.
   */
  const group = (keys: string[], members: string[], what: string): void => {
    const setKeys = keys.filter((k) => str(k) !== undefined);
    if (setKeys.length === keys.length) return;
    const setMembers = members.filter((m) => str(m) !== undefined);
    if (setMembers.length === 0) return;
    const missing = keys.filter((k) => str(k) === undefined);
    problems.push(`${missing.join(' and ')}: required because ${setMembers.join(', ')} ${setMembers.length === 1 ? 'is' : 'are'} set (${what}); set ${missing.join(' and ')} too, or unset ${setMembers.join(', ')}`);
  };
  group(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'], ['TWILIO_API_BASE_URL'], 'Twilio credentials');
  group(['SIGNALWIRE_PROJECT_ID', 'SIGNALWIRE_API_TOKEN'], ['SIGNALWIRE_SIGNING_KEY', 'SIGNALWIRE_SPACE_URL', 'SIGNALWIRE_API_BASE_URL'], 'SignalWire credentials');
  group(['OPENAI_API_KEY'], ['OPENAI_BASE_URL', 'OPENAI_LLM_MODEL', 'OPENAI_STT_MODEL', 'OPENAI_TTS_MODEL', 'OPENAI_TTS_VOICE'], 'OpenAI speech, LLM and voice');
  group(['ELEVENLABS_API_KEY'], ['ELEVENLABS_BASE_URL', 'ELEVENLABS_VOICE_ID', 'ELEVENLABS_MODEL_ID'], 'ElevenLabs voice');

  const port = int('PORT', 3000, 0, 65535, '3000');
  const carriers: CarrierCredentials = {};
  const twilio = paired('TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'your-auth-token');
  if (twilio) {
    if (!/^AC[0-9a-fA-F]{32}$/.test(twilio[0])) problems.push('TWILIO_ACCOUNT_SID: must be "AC" followed by 32 hex digits, e.g. TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef');
    const base = url('TWILIO_API_BASE_URL', ['https:', 'http:'], 'https://api.twilio.com');
    carriers.twilio = { accountSid: twilio[0], authToken: twilio[1], apiBaseUrl: (base?.toString() ?? 'https://api.twilio.com').replace(/\/$/, '') };
  }
  const sw = paired('SIGNALWIRE_PROJECT_ID', 'SIGNALWIRE_API_TOKEN', '0123abcd-…-uuid', 'PTxxxxxxxx');
  if (sw) {
    const space = str('SIGNALWIRE_SPACE_URL');
    const base = url('SIGNALWIRE_API_BASE_URL', ['https:', 'http:'], 'https://example.signalwire.com/api/laml');
    if (space === undefined && base === undefined) {
      problems.push('SIGNALWIRE_SPACE_URL: required with SignalWire credentials, e.g. SIGNALWIRE_SPACE_URL=example.signalwire.com');
    }
    const apiBaseUrl = base ? base.toString().replace(/\/$/, '') : `https://${space ?? 'invalid'}/api/laml`;
    carriers.signalwire = { projectId: sw[0], apiToken: sw[1], signingKey: str('SIGNALWIRE_SIGNING_KEY') ?? sw[1], apiBaseUrl };
  }
  const anyCarrier = carriers.twilio !== undefined || carriers.signalwire !== undefined;

  // With no carrier credentials nothing can authenticate a webhook, so the gateway listens on loopback
  // only unless told otherwise: a newcomer's replay works, and nothing is exposed by accident.
  const host = str('HOST') ?? (anyCarrier ? '0.0.0.0' : '127.0.0.1');
  const allowUnauthenticated = bool('ALLOW_UNAUTHENTICATED_WEBHOOKS', false);
  if (!anyCarrier && !isLoopback(host) && !allowUnauthenticated) {
    problems.push(
      `HOST: "${host}" would expose webhooks that cannot be authenticated because no carrier credentials are set; set TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN or SIGNALWIRE_PROJECT_ID/SIGNALWIRE_API_TOKEN, or use HOST=127.0.0.1 (or ALLOW_UNAUTHENTICATED_WEBHOOKS=true for a closed network)`,
    );
  }

  const publicUrl = url('PUBLIC_URL', ['https:', 'http:'], 'https://gateway.example.com') ?? new URL(`http://localhost:${port}`);
  if (publicUrl.pathname !== '/' || publicUrl.search !== '') {
    problems.push(`PUBLIC_URL: must be a bare origin without path or query (got "${urlForMessages(publicUrl.toString())}"), e.g. PUBLIC_URL=https://gateway.example.com`);
  }
  if (publicUrl.username !== '' || publicUrl.password !== '') {
    // It is logged at start and signed into webhook URLs: credentials have no place in it.
    problems.push('PUBLIC_URL: must not contain a user name or password, e.g. PUBLIC_URL=https://gateway.example.com');
  }
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:'], 'postgres://USER:PASSWORD@HOST:5432/gateway');
  const logLevel = str('LOG_LEVEL') ?? 'info';
  // Rate limits key on the client address; a forwarded address is believed only from known proxies.
  const trustRaw = str('TRUST_PROXY');
  let trustProxy: Config['trustProxy'] = false;
  if (trustRaw !== undefined) {
    if (/^(0|false|no|off)$/i.test(trustRaw)) trustProxy = false;
    else if (/^(1|true|yes|on)$/i.test(trustRaw)) trustProxy = true;
    else if (/^[0-9a-fA-F:.,/\s]+$/.test(trustRaw)) trustProxy = trustRaw.split(',').map((x) => x.trim()).filter((x) => x !== '');
    else problems.push(`TRUST_PROXY: must be true (every hop is a trusted proxy) or a comma list of proxy addresses/CIDRs (got "${trustRaw}"), e.g. TRUST_PROXY=10.0.0.0/8`);
  }
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}"), e.g. LOG_LEVEL=info`);
  const apiKey = str('API_KEY');
  if (apiKey !== undefined && apiKey.length < 24) problems.push('API_KEY: must be at least 24 characters, e.g. API_KEY=$(openssl rand -hex 24)');
  const metricsToken = str('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 24) problems.push('METRICS_TOKEN: must be at least 24 characters, e.g. METRICS_TOKEN=$(openssl rand -hex 24)');
  const streamTokenSecret = str('STREAM_TOKEN_SECRET');
  if (streamTokenSecret !== undefined && streamTokenSecret.length < 32) {
    problems.push('STREAM_TOKEN_SECRET: must be at least 32 characters, e.g. STREAM_TOKEN_SECRET=$(openssl rand -hex 32)');
  }
  const agentTransferNumbers = (str('AGENT_TRANSFER_NUMBERS') ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  const badNumbers = agentTransferNumbers.filter((n) => !TRANSFER_NUMBER_ENTRY.test(n));
  if (badNumbers.length > 0) {
    problems.push(`AGENT_TRANSFER_NUMBERS: ${badNumbers.map((n) => `"${n}"`).join(', ')} must be E.164 numbers or prefixes ending in *, e.g. AGENT_TRANSFER_NUMBERS=+14155550100,+4930*`);
  }
  const flowHttpAllowHosts = (str('FLOW_HTTP_ALLOW_HOSTS') ?? '').split(',').map((h) => h.trim()).filter((h) => h !== '');
  const badHosts = parseHttpAllowList(flowHttpAllowHosts).problems;
  if (badHosts.length > 0) {
    problems.push(`FLOW_HTTP_ALLOW_HOSTS: ${badHosts.map((h) => `"${h}"`).join(', ')} must be host names, *.domains, IP addresses or CIDRs (no scheme or path), e.g. FLOW_HTTP_ALLOW_HOSTS=api.example.com,*.crm.example.com,10.1.0.0/16`);
  }
  const elevenlabsBase = url('ELEVENLABS_BASE_URL', ['https:', 'http:'], 'https://api.elevenlabs.io');
  const openaiBase = url('OPENAI_BASE_URL', ['https:', 'http:'], 'https://api.openai.com/v1');
  const TTS_NAMES = ['elevenlabs', 'elevenlabs-ws', 'openai', 'offline'] as const;
  const ttsOrderRaw = str('TTS_ORDER');
  let ttsOrder: Config['providers']['ttsOrder'];
  if (ttsOrderRaw !== undefined) {
    const names = ttsOrderRaw.split(',').map((n) => n.trim());
    const bad = names.filter((n) => !(TTS_NAMES as readonly string[]).includes(n));
    if (bad.length > 0 || names.length === 0) problems.push(`TTS_ORDER: unknown voice provider(s) ${bad.join(', ')}; use a comma list of ${TTS_NAMES.join(', ')}, e.g. TTS_ORDER=elevenlabs,openai,offline`);
    else ttsOrder = names as Config['providers']['ttsOrder'];
  }

  // Every core with PostgreSQL; one process with embedded PGlite, which only one process can open.
  const workers = int('WORKERS', databaseUrl ? availableParallelism() : 1, 1, 256, '2');
  if (workers > 1 && !databaseUrl) {
    problems.push('WORKERS: more than one worker process needs DATABASE_URL (embedded PGlite can be opened by one process only), e.g. WORKERS=1 or DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/gateway');
  }

  // Embedded PGlite runs in this process, so its heartbeat's query is this process's CPU, and no other
  // instance can be alive beside it: a rarer heartbeat there (still three within the dead-after time).
  const instanceDeadAfterMs = int('INSTANCE_DEAD_AFTER_MS', 15_000, 500, 600_000, '15000');
  const instanceHeartbeatMs = int('INSTANCE_HEARTBEAT_MS', databaseUrl ? 2_000 : Math.max(100, Math.min(5_000, Math.floor(instanceDeadAfterMs / 3))), 100, 60_000, '2000');

  const config: Config = {
    host,
    port,
    publicUrl,
    databaseUrl: databaseUrl?.toString(),
    dataDir: path.resolve(cwd, str('DATA_DIR') ?? 'data'),
    apiKey,
    streamTokenSecret,
    carriers,
    localUnauthenticated: !anyCarrier && (isLoopback(host) || allowUnauthenticated),
    maxConcurrentCalls: int('MAX_CONCURRENT_CALLS', 500, 1, 100_000, '500'),
    workers,
    maxMessageBytes: int('MAX_MESSAGE_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024, '65536'),
    maxPendingStreams: int('MAX_PENDING_STREAMS', 200, 1, 100_000, '200'),
    maxPendingStreamsPerAddress: int('MAX_PENDING_STREAMS_PER_ADDRESS', 50, 1, 100_000, '50'),
    databaseStartWaitMs: int('DATABASE_START_WAIT_MS', 60_000, 0, 3_600_000, '60000'),
    drainTimeoutMs: int('DRAIN_TIMEOUT_MS', 20_000, 0, 3_600_000, '20000'),
    shutdownGraceMs: int('SHUTDOWN_GRACE_MS', 30_000, 5_000, 3_600_000, '30000'),
    instanceHeartbeatMs,
    instanceDeadAfterMs,
    mediaTimeoutMs: int('MEDIA_TIMEOUT_MS', 15_000, 0, 600_000, '15000'),
    recordCalls: bool('RECORD_CALLS', false),
    recordingMaxBytes: int('RECORDING_MAX_BYTES', 512 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024 * 1024, '536870912'),
    recordingRetentionDays: int('RECORDING_RETENTION_DAYS', 0, 0, 36_500, '90'),
    metricsToken,
    logLevel,
    trustProxy,
    flowsDir: path.resolve(cwd, str('FLOWS_DIR') ?? 'flows'),
    audioDir: path.resolve(cwd, str('AUDIO_DIR') ?? 'fixtures'),
    defaultFlowId: str('DEFAULT_FLOW_ID') ?? 'default',
    eventBufferMax: int('EVENT_BUFFER_MAX', 100_000, 100, 10_000_000, '100000'),
    apiRateLimitPerMinute: int('API_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000, '600'),
    webhookRateLimitPerMinute: int('WEBHOOK_RATE_LIMIT_PER_MINUTE', 3000, 1, 1_000_000, '3000'),
    agentTransferNumbers,
    flowHttpAllowHosts,
    campaigns: {
      engineEnabled: bool('CAMPAIGN_ENGINE', true),
      carrierCallsPerSecond: int('CARRIER_CALLS_PER_SECOND', 1, 1, 1000, '1'),
      tickMs: int('CAMPAIGN_TICK_MS', 200, 20, 10_000, '200'),
      staleClaimMs: int('CAMPAIGN_STALE_CLAIM_MS', 60_000, 1000, 3_600_000, '60000'),
    },
    providers: {
      openaiApiKey: str('OPENAI_API_KEY'),
      openaiBaseUrl: openaiBase?.toString().replace(/\/$/, ''),
      elevenlabsApiKey: str('ELEVENLABS_API_KEY'),
      elevenlabsBaseUrl: elevenlabsBase?.toString().replace(/\/$/, ''),
      elevenlabsVoiceId: str('ELEVENLABS_VOICE_ID') ?? '21m00Tcm4TlvDq8qVnm7',
      elevenlabsModelId: str('ELEVENLABS_MODEL_ID'),
      elevenlabsTokenStreaming: bool('ELEVENLABS_TOKEN_STREAMING', false),
      openaiLlmModel: str('OPENAI_LLM_MODEL'),
      openaiSttModel: str('OPENAI_STT_MODEL'),
      openaiTtsModel: str('OPENAI_TTS_MODEL'),
      openaiTtsVoice: str('OPENAI_TTS_VOICE'),
      ttsOrder,
    },
  };
  if (config.instanceDeadAfterMs < 3 * config.instanceHeartbeatMs) {
    problems.push(`INSTANCE_DEAD_AFTER_MS: must be at least 3 × INSTANCE_HEARTBEAT_MS (${3 * config.instanceHeartbeatMs}) so one late heartbeat does not make a live instance lost, e.g. INSTANCE_DEAD_AFTER_MS=15000`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The websocket base the carrier connects to (wss for https). */
export function mediaStreamUrl(config: Pick<Config, 'publicUrl'>, carrier: string): string {
  const u = new URL(config.publicUrl.toString());
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `/media/${carrier}`;
  return u.toString();
}

/** Time kept for persisting after the drain: call writes settle, then buffered events flush. */
const PERSIST_BUDGET_MS = 6_000;
/**
 * Time kept for closing after persisting: the server, call writes still retrying (0.5 s), the event
 * log's last flush (1 s), the instance's "stopped" mark (≤ 1 s), the database.
 */
const CLOSE_BUDGET_MS = 3_000;

export interface ShutdownPlan {
  /** Live calls may finish this long (DRAIN_TIMEOUT_MS, shortened to fit the grace period). */
  drainMs: number;
  /** Call writes and buffered events get this long together. */
  persistMs: number;
  closeMs: number;
}

/**
 * The worst case of an orderly shutdown (SIGTERM) fits SHUTDOWN_GRACE_MS (default 30 s, Kubernetes'
 * terminationGracePeriodSeconds default): drain ≤ grace − persist − close, persist 6 s, close 3 s.
 */
export function shutdownPlan(config: Pick<Config, 'drainTimeoutMs' | 'shutdownGraceMs'>): ShutdownPlan {
  const persistMs = Math.min(PERSIST_BUDGET_MS, Math.floor(config.shutdownGraceMs / 3));
  const closeMs = Math.min(CLOSE_BUDGET_MS, Math.floor(config.shutdownGraceMs / 6));
  return { drainMs: Math.max(0, Math.min(config.drainTimeoutMs, config.shutdownGraceMs - persistMs - closeMs)), persistMs, closeMs };
}
