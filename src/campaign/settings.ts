// What a campaign is configured with, its defaults, and the JSON schemas the API validates it by.
// Settings are one JSON document on the campaign row (PATCH merges into it), so a change applies to
// the next dial of every instance: the engine reads them in the claim's transaction.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const CONSENT_LEVELS = ['none', 'express', 'written'] as const;
export type ConsentLevel = (typeof CONSENT_LEVELS)[number];

export const VOICEMAIL_POLICIES = ['hangup', 'drop', 'continue'] as const;
export type VoicemailPolicy = (typeof VOICEMAIL_POLICIES)[number];

/** The outcomes that can be retried, and how often / after how long. */
export const RETRY_KEYS = ['noAnswer', 'busy', 'failed', 'machine', 'carrierError'] as const;
export type RetryKey = (typeof RETRY_KEYS)[number];

export interface RetryRule {
  /** Attempts in all for this outcome (1 = never retried). */
  maxAttempts: number;
  delayS: number;
}

export interface Pacing {
  maxConcurrent: number;
  callsPerMinute: number;
  callsPerHour: number;
  /** Start at `fromPerMinute` and rise linearly to callsPerMinute over `overMinutes` after start. */
  ramp: { fromPerMinute: number; overMinutes: number } | null;
}

export interface CallingWindow {
  days: Weekday[];
  /** HH:MM in the contact's local time. */
  start: string;
  end: string;
}

/** A machine verdict at least this sure is hung up on under the `hangup` policy (dsp/amd.ts calibrates confidence). */
export const DEFAULT_HANGUP_CONFIDENCE = 0.9;

export interface AmdSettings {
  enabled: boolean;
  /** `hangup` hangs up on a machine verdict only at or above this confidence (0–1). */
  hangupConfidence: number;
  /** Said after the beep when the policy leaves a message (`drop`, or `hangup` below the confidence); null: the flow's voicemail branch. */
  dropMessage: string | null;
}

export interface CampaignSettings {
  callerIds: string[];
  amd: AmdSettings;
  voicemailPolicy: VoicemailPolicy;
  pacing: Pacing;
  retries: Record<RetryKey, RetryRule>;
  window: CallingWindow;
  /** IANA zone used for contacts whose zone neither the import nor the number tells. */
  timezone: string;
  /** ISO 3166 country for numbers written without +country code. */
  defaultCountry: string;
  requiredConsent: ConsentLevel;
  /** Attempts to one number per 24 h across every campaign. */
  perNumberDailyCap: number;
  ringTimeoutS: number;
  /** Percent of live answers abandoned (30 days) above which the campaign pauses itself. */
  abandonRateLimit: number;
  /** An attempt whose call has not ended after this long is checked with the carrier. */
  maxCallS: number;
}

/**
 * US rules (47 CFR 64.1200(c)(1), 16 CFR 310.4(c)): never before 08:00 or after 21:00 in the called
 * person's local time. A campaign window is always clamped inside it.
 */
export const LEGAL_WINDOW = { start: '08:00', end: '21:00' } as const;

export function defaultSettings(): CampaignSettings {
  return {
    callerIds: [],
    amd: { enabled: true, hangupConfidence: DEFAULT_HANGUP_CONFIDENCE, dropMessage: null },
    voicemailPolicy: 'hangup',
    pacing: { maxConcurrent: 5, callsPerMinute: 10, callsPerHour: 200, ramp: null },
    retries: {
      noAnswer: { maxAttempts: 3, delayS: 3600 },
      busy: { maxAttempts: 3, delayS: 3600 },
      failed: { maxAttempts: 2, delayS: 3600 },
      machine: { maxAttempts: 2, delayS: 3600 },
      carrierError: { maxAttempts: 2, delayS: 900 },
    },
    window: { days: [...WEEKDAYS], start: LEGAL_WINDOW.start, end: LEGAL_WINDOW.end },
    timezone: 'America/New_York',
    defaultCountry: 'US',
    requiredConsent: 'none',
    perNumberDailyCap: 3,
    ringTimeoutS: 30,
    abandonRateLimit: 3,
    maxCallS: 1800,
  };
}

/** Settings stored before a field existed read as its default. */
export function withDefaults(s: CampaignSettings): CampaignSettings {
  const d = defaultSettings();
  return { ...d, ...s, amd: { ...d.amd, ...s.amd } };
}

/** Deep merge of a PATCH into settings: objects merge, arrays and scalars replace. */
export function mergeSettings(base: CampaignSettings, patch: Partial<Record<keyof CampaignSettings, unknown>>): CampaignSettings {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === undefined) return a;
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = merge(out[k], v);
      return out;
    }
    return b;
  };
  return merge(base, patch) as CampaignSettings;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const E164 = '^\\+[1-9][0-9]{6,14}$';
const HHMM = '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$';
const retryRule = {
  type: 'object',
  additionalProperties: false,
  properties: { maxAttempts: { type: 'integer', minimum: 1, maximum: 20 }, delayS: { type: 'integer', minimum: 1, maximum: 30 * 86400 } },
};

/** JSON schema properties of the settings (all optional: defaults or the current values apply). */
export const SETTINGS_PROPERTIES = {
  callerIds: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', pattern: E164 }, description: 'E.164 numbers of the carrier account, used in turn' },
  amd: {
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean' },
      hangupConfidence: { type: 'number', minimum: 0, maximum: 1, description: 'voicemailPolicy hangup: hang up on a machine verdict (or its revision) only at or above this confidence; below it, leave dropMessage (default 0.9)' },
      dropMessage: { type: ['string', 'null'], minLength: 1, maxLength: 1000, description: 'said after the beep when the policy leaves a message ({{contact.name}} and {{vars.x}} templates); null: the flow\'s amd → voicemail branch' },
    },
  },
  voicemailPolicy: {
    type: 'string',
    enum: [...VOICEMAIL_POLICIES],
    description: 'hangup: hang up on a sure machine (amd.hangupConfidence) and retry later, else leave amd.dropMessage; drop: leave amd.dropMessage (or the flow\'s voicemail branch) after the beep; continue: the flow decides. A human verdict revised to machine switches to the machine branch.',
  },
  pacing: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxConcurrent: { type: 'integer', minimum: 1, maximum: 1000 },
      callsPerMinute: { type: 'integer', minimum: 1, maximum: 6000 },
      callsPerHour: { type: 'integer', minimum: 1, maximum: 360000 },
      ramp: {
        type: ['object', 'null'],
        additionalProperties: false,
        required: ['fromPerMinute', 'overMinutes'],
        properties: { fromPerMinute: { type: 'integer', minimum: 1, maximum: 6000 }, overMinutes: { type: 'integer', minimum: 1, maximum: 1440 } },
      },
    },
  },
  retries: { type: 'object', additionalProperties: false, properties: Object.fromEntries(RETRY_KEYS.map((k) => [k, retryRule])) },
  window: {
    type: 'object',
    additionalProperties: false,
    properties: {
      days: { type: 'array', minItems: 1, maxItems: 7, uniqueItems: true, items: { type: 'string', enum: [...WEEKDAYS] } },
      start: { type: 'string', pattern: HHMM },
      end: { type: 'string', pattern: HHMM },
    },
  },
  timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA zone, e.g. America/Chicago' },
  defaultCountry: { type: 'string', pattern: '^[A-Z]{2}$' },
  requiredConsent: { type: 'string', enum: [...CONSENT_LEVELS] },
  perNumberDailyCap: { type: 'integer', minimum: 1, maximum: 100 },
  ringTimeoutS: { type: 'integer', minimum: 5, maximum: 120 },
  abandonRateLimit: { type: 'number', minimum: 0, maximum: 100 },
  maxCallS: { type: 'integer', minimum: 30, maximum: 14400 },
} as const;

/** Checks a schema cannot express; returns "field: problem" or undefined. */
export function settingsProblem(s: CampaignSettings): string | undefined {
  if (!isValidTimeZone(s.timezone)) return `timezone: "${s.timezone}" is not an IANA time zone (e.g. America/Chicago)`;
  if (s.window.start >= s.window.end) return 'window: start must be before end (HH:MM, same day)';
  if (s.pacing.callsPerHour < s.pacing.callsPerMinute) return 'pacing.callsPerHour: must be at least pacing.callsPerMinute';
  return undefined;
}
