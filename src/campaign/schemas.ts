// JSON schemas of the campaign API's responses and shared parameters (for validation, serialization
// and the OpenAPI document).
import { ATTEMPT_OUTCOMES } from '../outcome/vocabulary.ts';
import { CAMPAIGN_STATES, CONTACT_STATES } from './records.ts';
import { SETTINGS_PROPERTIES } from './settings.ts';

export const TAG = 'campaigns';
export const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } } } as const;
export const PAGE_QUERY = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
  cursor: { type: 'string', maxLength: 500 },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

export const CAMPAIGN = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    state: { type: 'string', enum: [...CAMPAIGN_STATES] },
    stateReason: nullableString,
    flowId: { type: 'string' },
    flowVersion: { type: ['integer', 'null'], description: 'the flow version the campaign dials with; null on a draft: the latest is pinned when it starts' },
    carrier: { type: 'string' },
    ...SETTINGS_PROPERTIES,
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    startedAt: nullableString,
    endedAt: nullableString,
  },
} as const;

export const CONTACT = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    campaignId: { type: 'string' },
    phone: { type: 'string' },
    name: nullableString,
    priority: { type: 'integer' },
    timezone: { type: 'string' },
    timezoneSource: { type: 'string', enum: ['column', 'number', 'campaign'] },
    variables: { type: 'object', additionalProperties: true },
    consent: { type: 'string' },
    consentSource: nullableString,
    consentAt: nullableString,
    state: { type: 'string', enum: [...CONTACT_STATES] },
    disposition: nullableString,
    attempts: { type: 'integer' },
    lastOutcome: nullableString,
    nextAttemptAt: { type: 'string' },
    sourceLine: { type: ['integer', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

export const ATTEMPT = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    campaignId: { type: 'string' },
    contactId: { type: 'string' },
    attempt: { type: 'integer' },
    phone: { type: 'string' },
    callerId: { type: 'string' },
    carrier: { type: 'string' },
    callId: { type: 'string', description: 'the call record: GET /v1/calls/{callId}' },
    carrierCallId: nullableString,
    instanceId: { type: 'string' },
    state: { type: 'string', enum: ['claimed', 'placed', 'settled', 'canceled'] },
    outcome: { type: ['string', 'null'], enum: [...ATTEMPT_OUTCOMES, null] },
    amdResult: nullableString,
    disposition: nullableString,
    abandoned: { type: 'boolean' },
    voicemailLeft: { type: 'boolean' },
    detail: { type: 'object', additionalProperties: true },
    createdAt: { type: 'string' },
    placedAt: nullableString,
    settledAt: nullableString,
  },
} as const;

const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

export const STATS = {
  type: 'object',
  properties: {
    campaignId: { type: 'string' },
    state: { type: 'string' },
    stateReason: nullableString,
    contacts: counts,
    contactsTotal: { type: 'integer' },
    attempts: counts,
    attemptsTotal: { type: 'integer' },
    inFlight: { type: 'integer' },
    dialsLastMinute: { type: 'integer' },
    answerRate: { type: 'number' },
    humanRate: { type: 'number' },
    voicemailRate: { type: 'number' },
    abandoned30d: { type: 'integer' },
    liveAnswers30d: { type: 'integer' },
    abandonRate30d: { type: 'number' },
    at: { type: 'string' },
  },
} as const;

export const IMPORT_REPORT = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    invalid: { type: 'integer' },
    duplicate: { type: 'integer' },
    doNotCall: { type: 'integer' },
    timezoneSources: { type: 'object', properties: { column: { type: 'integer' }, number: { type: 'integer' }, campaign: { type: 'integer' } } },
    problems: {
      type: 'array',
      items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' }, field: { type: 'string' }, value: { type: 'string' } } },
    },
  },
} as const;

export const CAMPAIGN_EXAMPLE = {
  name: 'November reminders',
  flowId: 'outbound-reminder',
  callerIds: ['+14155550100'],
  voicemailPolicy: 'hangup',
  amd: { enabled: true, hangupConfidence: 0.9, dropMessage: 'Hi {{contact.name}}, this is the clinic reminding you of your appointment. Please call us back.' },
  pacing: { maxConcurrent: 5, callsPerMinute: 10, callsPerHour: 200 },
  retries: { noAnswer: { maxAttempts: 3, delayS: 3600 }, busy: { maxAttempts: 3, delayS: 1800 } },
  window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '20:00' },
  timezone: 'America/New_York',
};
