// What a campaign's settings do on the call itself. The voicemail policy `hangup` ends the call as
// soon as AMD says machine (or fax), whatever the flow is doing; `drop` and `continue` leave the call
// to the flow (its amd → voicemail branch leaves the message after the beep). The campaign travels in
// the call record's metadata, written before the carrier was asked.
import type { CallEvent } from '../call/events.ts';

export interface PolicyCall {
  subscribe(listener: (event: CallEvent) => void): () => void;
  hangup(reason: string): Promise<void>;
  readonly signal: AbortSignal;
}

export interface CampaignCallMetadata {
  id: string;
  voicemailPolicy: string;
}

export function campaignOf(metadata: Record<string, unknown> | undefined): CampaignCallMetadata | undefined {
  const c = metadata?.campaign;
  if (c === null || typeof c !== 'object') return undefined;
  const { id, voicemailPolicy } = c as Record<string, unknown>;
  return typeof id === 'string' && typeof voicemailPolicy === 'string' ? { id, voicemailPolicy } : undefined;
}

/** Applies the campaign's call-time policy; the subscription ends with the call. */
export function applyCampaignPolicy(call: PolicyCall, campaign: CampaignCallMetadata, onError: (err: unknown) => void): void {
  if (campaign.voicemailPolicy !== 'hangup') return;
  const unsubscribe = call.subscribe((e) => {
    if (e.type === 'amd.verdict' && (e.result === 'machine' || e.result === 'fax')) {
      unsubscribe();
      call.hangup('campaign_machine_hangup').catch(onError);
    }
  });
  call.signal.addEventListener('abort', unsubscribe, { once: true });
}
