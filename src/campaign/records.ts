// The campaign's records as the API shows them (camelCase), the rows they are read from, and the
// mapping between the two.
import { withDefaults, type CampaignSettings } from './settings.ts';

export const CAMPAIGN_STATES = ['draft', 'running', 'paused', 'stopped', 'completed'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export const CONTACT_STATES = ['queued', 'dialing', 'done', 'do-not-call', 'skipped', 'review'] as const;
export type ContactState = (typeof CONTACT_STATES)[number];

export interface Campaign extends CampaignSettings {
  id: string;
  name: string;
  state: CampaignState;
  stateReason: string | null;
  flowId: string;
  flowVersion: number | null;
  carrier: 'twilio' | 'signalwire';
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface CampaignRow {
  id: string;
  name: string;
  state: CampaignState;
  state_reason: string | null;
  flow_id: string;
  flow_version: number | null;
  carrier: 'twilio' | 'signalwire';
  settings: CampaignSettings;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
}

export function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    stateReason: r.state_reason,
    flowId: r.flow_id,
    flowVersion: r.flow_version,
    carrier: r.carrier,
    ...withDefaults(r.settings),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
  };
}

export interface Contact {
  id: string;
  campaignId: string;
  phone: string;
  name: string | null;
  priority: number;
  timezone: string;
  timezoneSource: string;
  variables: Record<string, unknown>;
  consent: string;
  consentSource: string | null;
  consentAt: string | null;
  state: ContactState;
  disposition: string | null;
  attempts: number;
  lastOutcome: string | null;
  nextAttemptAt: string;
  sourceLine: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface ContactRow {
  id: string;
  campaign_id: string;
  phone: string;
  name: string | null;
  priority: number;
  timezone: string;
  timezone_source: string;
  variables: Record<string, unknown>;
  consent: string;
  consent_source: string | null;
  consent_at: Date | null;
  state: ContactState;
  disposition: string | null;
  attempts: number;
  attempts_by_outcome: Record<string, number>;
  last_outcome: string | null;
  next_attempt_at: Date;
  source_line: number | null;
  created_at: Date;
  updated_at: Date;
}

export function toContact(r: ContactRow): Contact {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    phone: r.phone,
    name: r.name,
    priority: r.priority,
    timezone: r.timezone,
    timezoneSource: r.timezone_source,
    variables: r.variables,
    consent: r.consent,
    consentSource: r.consent_source,
    consentAt: r.consent_at?.toISOString() ?? null,
    state: r.state,
    disposition: r.disposition,
    attempts: r.attempts,
    lastOutcome: r.last_outcome,
    nextAttemptAt: r.next_attempt_at.toISOString(),
    sourceLine: r.source_line,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export interface Attempt {
  id: string;
  campaignId: string;
  contactId: string;
  attempt: number;
  phone: string;
  callerId: string;
  carrier: string;
  callId: string;
  carrierCallId: string | null;
  instanceId: string;
  state: string;
  outcome: string | null;
  amdResult: string | null;
  disposition: string | null;
  abandoned: boolean;
  voicemailLeft: boolean;
  detail: Record<string, unknown>;
  createdAt: string;
  placedAt: string | null;
  settledAt: string | null;
}

export interface AttemptRow {
  id: string;
  campaign_id: string;
  contact_id: string;
  attempt: number;
  phone: string;
  caller_id: string;
  carrier: string;
  call_id: string;
  carrier_call_id: string | null;
  instance_id: string;
  state: string;
  outcome: string | null;
  amd_result: string | null;
  disposition: string | null;
  abandoned: boolean;
  voicemail_left: boolean;
  detail: Record<string, unknown>;
  created_at: Date;
  placed_at: Date | null;
  settled_at: Date | null;
}

export function toAttempt(r: AttemptRow): Attempt {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    contactId: r.contact_id,
    attempt: r.attempt,
    phone: r.phone,
    callerId: r.caller_id,
    carrier: r.carrier,
    callId: r.call_id,
    carrierCallId: r.carrier_call_id,
    instanceId: r.instance_id,
    state: r.state,
    outcome: r.outcome,
    amdResult: r.amd_result,
    disposition: r.disposition,
    abandoned: r.abandoned,
    voicemailLeft: r.voicemail_left,
    detail: r.detail,
    createdAt: r.created_at.toISOString(),
    placedAt: r.placed_at?.toISOString() ?? null,
    settledAt: r.settled_at?.toISOString() ?? null,
  };
}

export interface CampaignEvent {
  id: number;
  at: string;
  actor: string;
  type: string;
  data: Record<string, unknown>;
}
