// Carrier REST client for call control, over fetch. Twilio's 2010-04-01 Calls API, and SignalWire's
// LaML-compatible copy of it at https://{space}.signalwire.com/api/laml/2010-04-01/Accounts/{project}/Calls.
// Both take form-encoded bodies and Basic auth (account SID or project id : auth token or API token).
// Sources: twilio.com/docs/voice/api/call-resource (create/update, StatusCallbackEvent, MachineDetection);
// twilio-node src/rest/api/v2010/account/call.ts; signalwire/docs specs/compatibility-api.
import { createError, isAbortError, isRetryableStatus, type GatewayError } from '../errors.ts';
import { dialTwiml, type DialOptions } from './twiml.ts';
import type { Carrier } from './types.ts';

export interface CarrierRestConfig {
  carrier: Carrier;
  /** Twilio account SID (AC…) or SignalWire project id. */
  accountSid: string;
  /** Twilio auth token or SignalWire API token. Never logged, never put in an error. */
  authToken: string;
  /** SignalWire space name (`example` for example.signalwire.com). */
  signalwireSpace?: string;
  /** Origin override (fakes, regional edges), e.g. http://127.0.0.1:4010. */
  baseUrl?: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
}

export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';
export type StatusCallbackEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

export interface CallResource {
  sid: string;
  /** One of CallStatus; kept as the carrier's string so a new status never breaks parsing. */
  status: string;
  to: string;
  from: string;
  direction: string;
  accountSid: string;
}

export interface CreateCallOptions {
  to: string;
  from: string;
  /** Webhook the carrier fetches TwiML from once answered… */
  url?: string;
  /** …or the TwiML itself. Exactly one of the two. */
  twiml?: string;
  statusCallback?: string;
  /** Default: all four (initiated ringing answered completed). */
  statusCallbackEvent?: readonly StatusCallbackEvent[];
  machineDetection?: 'Enable' | 'DetectMessageEnd';
  machineDetectionTimeoutS?: number;
  asyncAmd?: boolean;
  asyncAmdStatusCallback?: string;
  /** Seconds to let it ring (carrier default 60). */
  timeoutS?: number;
  record?: boolean;
  signal?: AbortSignal;
}

export interface UpdateCallOptions {
  twiml?: string;
  url?: string;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Twilio's "resource not found" code: a call that no longer exists. */
const NOT_FOUND_CODE = 20404;

type Form = Array<[string, string]>;

export class CarrierRestClient {
  readonly carrier: Carrier;
  private readonly authHeader: string;
  private readonly authToken: string;
  private readonly callsUrl: string;
  private readonly timeoutMs: number;

  constructor(config: CarrierRestConfig) {
    if (!config.accountSid || !config.authToken) {
      throw createError('GW_ERR_CARRIER_CONFIG', `${config.carrier} REST client needs an account id and a token; set them in the configuration`, { statusCode: 500 });
    }
    let origin = config.baseUrl;
    if (!origin) {
      if (config.carrier === 'twilio') origin = 'https://api.twilio.com';
      else if (config.signalwireSpace && /^[a-z0-9-]+$/i.test(config.signalwireSpace)) origin = `https://${config.signalwireSpace}.signalwire.com`;
      else throw createError('GW_ERR_CARRIER_CONFIG', 'SignalWire REST client needs the space name (example for example.signalwire.com)', { statusCode: 500 });
    }
    origin = origin.replace(/\/+$/, '');
    const prefix = config.carrier === 'signalwire' ? '/api/laml' : '';
    this.carrier = config.carrier;
    this.authToken = config.authToken;
    this.authHeader = 'Basic ' + Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64');
    this.callsUrl = `${origin}${prefix}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Calls`;
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Place an outbound call. */
  async createCall(opts: CreateCallOptions): Promise<CallResource> {
    if ((opts.url === undefined) === (opts.twiml === undefined)) {
      throw createError('GW_ERR_CARRIER_BAD_REQUEST', 'createCall needs exactly one of url or twiml', { statusCode: 400 });
    }
    const form: Form = [['To', opts.to], ['From', opts.from]];
    if (opts.url !== undefined) form.push(['Url', opts.url]);
    if (opts.twiml !== undefined) form.push(['Twiml', opts.twiml]);
    if (opts.statusCallback) {
      form.push(['StatusCallback', opts.statusCallback], ['StatusCallbackMethod', 'POST']);
      // A repeated parameter, one value each (the Calls API's list encoding).
      for (const ev of opts.statusCallbackEvent ?? ['initiated', 'ringing', 'answered', 'completed']) form.push(['StatusCallbackEvent', ev]);
    }
    if (opts.machineDetection) {
      form.push(['MachineDetection', opts.machineDetection]);
      if (opts.machineDetectionTimeoutS !== undefined) form.push(['MachineDetectionTimeout', String(opts.machineDetectionTimeoutS)]);
      if (opts.asyncAmd) form.push(['AsyncAmd', 'true']);
      if (opts.asyncAmdStatusCallback) form.push(['AsyncAmdStatusCallback', opts.asyncAmdStatusCallback]);
    }
    if (opts.timeoutS !== undefined) form.push(['Timeout', String(opts.timeoutS)]);
    if (opts.record) form.push(['Record', 'true']);
    const body = await this.request('POST', `${this.callsUrl}.json`, form, opts.signal);
    return toCallResource(body);
  }

  async getCall(callSid: string, signal?: AbortSignal): Promise<CallResource> {
    return toCallResource(await this.request('GET', this.callUrl(callSid), undefined, signal));
  }

  /** Hang up. A call the carrier no longer knows (404 / 20404) has already ended: that is success. */
  async hangup(callSid: string, signal?: AbortSignal): Promise<{ alreadyEnded: boolean }> {
    try {
      await this.request('POST', this.callUrl(callSid), [['Status', 'completed']], signal);
      return { alreadyEnded: false };
    } catch (err) {
      const details = (err as GatewayError).details as { status?: number; carrierCode?: number } | undefined;
      if ((err as GatewayError).code === 'GW_ERR_CARRIER_HTTP' && (details?.status === 404 || details?.carrierCode === NOT_FOUND_CODE)) {
        return { alreadyEnded: true };
      }
      throw err;
    }
  }

  /** Replace what a live call is doing with new TwiML (or a URL to fetch it from). */
  async updateCall(callSid: string, opts: UpdateCallOptions): Promise<CallResource> {
    if ((opts.url === undefined) === (opts.twiml === undefined)) {
      throw createError('GW_ERR_CARRIER_BAD_REQUEST', 'updateCall needs exactly one of url or twiml', { statusCode: 400 });
    }
    const form: Form = opts.twiml !== undefined ? [['Twiml', opts.twiml]] : [['Url', opts.url as string], ['Method', 'POST']];
    return toCallResource(await this.request('POST', this.callUrl(callSid), form, opts.signal));
  }

  /** Transfer: redirect the call to a <Dial>. The media stream ends when the carrier leaves <Connect>. */
  async transfer(callSid: string, dial: DialOptions, signal?: AbortSignal): Promise<CallResource> {
    return this.updateCall(callSid, { twiml: dialTwiml(dial), signal });
  }

  private callUrl(callSid: string): string {
    return `${this.callsUrl}/${encodeURIComponent(callSid)}.json`;
  }

  private redact(text: string): string {
    return text.split(this.authToken).join('[redacted]');
  }

  private async request(method: 'GET' | 'POST', url: string, form: Form | undefined, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const what = `${this.carrier} ${method} ${url.slice(url.indexOf('/Calls'))}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: this.authHeader,
          accept: 'application/json',
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
        signal: combined,
      });
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw err instanceof Error && isAbortError(err) ? err : signal.reason;
      if (timeout.aborted) {
        throw createError('GW_ERR_CARRIER_TIMEOUT', `${what} timed out after ${this.timeoutMs} ms; the carrier may be slow, retry`, { statusCode: 504, retryable: true });
      }
      throw createError('GW_ERR_CARRIER_UNREACHABLE', `${what} failed: ${this.redact((err as Error).message)}; check the network and the carrier base URL`, {
        statusCode: 502,
        retryable: true,
      });
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const b = (body ?? {}) as { code?: unknown; message?: unknown; more_info?: unknown };
      const carrierCode = typeof b.code === 'number' ? b.code : undefined;
      const message = typeof b.message === 'string' ? this.redact(b.message) : `HTTP ${res.status}`;
      const hint = res.status === 401 || res.status === 403 ? '; check the account id and token' : '';
      throw createError('GW_ERR_CARRIER_HTTP', `${what} answered ${res.status}${carrierCode ? ` (code ${carrierCode})` : ''}: ${message}${hint}`, {
        statusCode: 502,
        retryable: isRetryableStatus(res.status),
        details: { status: res.status, carrierCode, moreInfo: typeof b.more_info === 'string' ? b.more_info : undefined },
      });
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw createError('GW_ERR_CARRIER_BAD_RESPONSE', `${what} answered ${res.status} with a body that is not a JSON object`, { statusCode: 502, retryable: false });
    }
    return body as Record<string, unknown>;
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function toCallResource(body: Record<string, unknown>): CallResource {
  if (typeof body.sid !== 'string') {
    throw createError('GW_ERR_CARRIER_BAD_RESPONSE', 'carrier answered without a call sid', { statusCode: 502, retryable: false });
  }
  return { sid: body.sid, status: str(body.status), to: str(body.to), from: str(body.from), direction: str(body.direction), accountSid: str(body.account_sid) };
}
