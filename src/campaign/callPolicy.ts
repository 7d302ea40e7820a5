// What a campaign's settings do on the call itself: its voicemail policy acting on the AMD verdict,
// on its revision (amd.revised: a `human` that a late beep turned into `machine`) and on its confidence.
//   hangup   — a machine verdict at or above `amd.hangupConfidence` ends the call at once; below it the
//              verdict may be wrong, so rather than hang up on a person the call leaves the campaign's
//              message after the beep (`amd.dropMessage`), or, without one, the flow decides.
//   drop     — a machine leaves the campaign's message after the beep (`amd.dropMessage`), or, without
//              one, the flow's own amd → voicemail branch does.
//   continue — the flow decides.
// A fax is hung up on under hangup and drop (it cannot take a message). The policy acts once per call;
// each decision is on the call's timeline (`flow.campaign.amd_action`). The campaign travels in the
// call record's metadata, written before the carrier was asked.
import type { AmdResult, CallEvent } from '../call/events.ts';
import type { FlowDefinition } from '../flow/types.ts';
import { DEFAULT_HANGUP_CONFIDENCE, VOICEMAIL_POLICIES, type VoicemailPolicy } from './settings.ts';

export interface PolicyCall {
  subscribe(listener: (event: CallEvent) => void): () => void;
  hangup(reason: string): Promise<void>;
  emit(event: CallEvent): void;
  mediaMs(): number;
  readonly signal: AbortSignal;
}

export interface CampaignCallMetadata {
  id: string;
  voicemailPolicy: VoicemailPolicy;
  hangupConfidence: number;
  dropMessage: string | null;
}

export type AmdAction = 'hangup' | 'drop' | 'flow' | 'none';

export function campaignOf(metadata: Record<string, unknown> | undefined): CampaignCallMetadata | undefined {
  const c = metadata?.campaign;
  if (c === null || typeof c !== 'object') return undefined;
  const { id, voicemailPolicy, hangupConfidence, dropMessage } = c as Record<string, unknown>;
  if (typeof id !== 'string' || !VOICEMAIL_POLICIES.includes(voicemailPolicy as VoicemailPolicy)) return undefined;
  return {
    id,
    voicemailPolicy: voicemailPolicy as VoicemailPolicy,
    // Calls placed before these settings existed carry neither: the defaults apply.
    hangupConfidence: typeof hangupConfidence === 'number' ? hangupConfidence : DEFAULT_HANGUP_CONFIDENCE,
    dropMessage: typeof dropMessage === 'string' && dropMessage !== '' ? dropMessage : null,
  };
}

/** What the policy does with a verdict as it stands (the first, or its revision). */
export function amdAction(campaign: CampaignCallMetadata, result: AmdResult, confidence: number): AmdAction {
  if (campaign.voicemailPolicy === 'continue' || (result !== 'machine' && result !== 'fax')) return 'none';
  if (result === 'fax') return 'hangup';
  if (campaign.voicemailPolicy === 'hangup' && confidence >= campaign.hangupConfidence) return 'hangup';
  return campaign.dropMessage !== null ? 'drop' : 'flow';
}

/** The campaign's voicemail drop as a one-node flow: wait for the end of the greeting, speak, hang up. */
export function voicemailDropFlow(message: string): FlowDefinition {
  return { id: 'campaign-voicemail-drop', start: 'drop', nodes: { drop: { type: 'voicemail', text: message } } };
}

export interface PolicyActions {
  /** Stop the flow and leave the message (flow/flowStarter.ts takeOver). */
  leaveMessage: (flow: FlowDefinition) => Promise<unknown>;
  onError: (err: unknown) => void;
}

type AmdEvent = Extract<CallEvent, { type: 'amd.verdict' | 'amd.revised' }>;

/**
 * Applies the campaign's call-time policy; the subscription ends with the call or its first action.
 * `standing` is the verdict already given when the policy starts (see applyCampaignPolicyWhenRead).
 */
export function applyCampaignPolicy(call: PolicyCall, campaign: CampaignCallMetadata, actions: PolicyActions, standing?: AmdEvent): void {
  if (campaign.voicemailPolicy === 'continue') return;
  let unsubscribe = (): void => {};
  const act = (e: AmdEvent): boolean => {
    const action = amdAction(campaign, e.result, e.confidence);
    if (action === 'none') return false; // a human may still be revised to a machine
    unsubscribe();
    call.emit({
      type: 'flow.campaign.amd_action',
      atMs: call.mediaMs(),
      data: { action, result: e.result, confidence: e.confidence, hangupConfidence: campaign.hangupConfidence, revised: e.type === 'amd.revised', policy: campaign.voicemailPolicy },
    });
    if (action === 'hangup') call.hangup(e.result === 'fax' ? 'campaign_fax_hangup' : 'campaign_machine_hangup').catch(actions.onError);
    else if (action === 'drop' && campaign.dropMessage !== null) actions.leaveMessage(voicemailDropFlow(campaign.dropMessage)).catch(actions.onError);
    return true;
  };
  if (standing !== undefined && act(standing)) return;
  unsubscribe = call.subscribe((e) => {
    if (e.type === 'amd.verdict' || e.type === 'amd.revised') act(e);
  });
  call.signal.addEventListener('abort', unsubscribe, { once: true });
}

/**
 * The policy of a call whose campaign settings are still being read from its record: it listens from
 * the call's start, so a verdict given meanwhile (a fast machine, a loaded database) is acted on when
 * the settings arrive instead of being missed.
 */
export function applyCampaignPolicyWhenRead(call: PolicyCall, read: Promise<CampaignCallMetadata | undefined>, actions: PolicyActions): void {
  let standing: AmdEvent | undefined;
  const early = call.subscribe((e) => {
    if (e.type === 'amd.verdict' || e.type === 'amd.revised') standing = e;
  });
  call.signal.addEventListener('abort', early, { once: true });
  read.then(
    (campaign) => {
      early();
      if (campaign !== undefined && !call.signal.aborted) applyCampaignPolicy(call, campaign, actions, standing);
    },
    (err: unknown) => {
      early();
      actions.onError(err);
    },
  );
}
