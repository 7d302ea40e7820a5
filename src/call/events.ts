// Everything that happens on a call, as a discriminated union. `atMs` is media time (inbound audio
// received so far), never wall time, so a replay at any speed yields the same timeline.
import type { Carrier } from '../telephony/types.ts';

// The carrier vocabulary belongs to telephony/ (the lower layer); re-exported for the call's users.
export type { Carrier, Direction } from '../telephony/types.ts';

// The detector's vocabulary is the call's: dsp/ defines it (it cannot import src/), the timeline reuses it.
import type { AmdAnsweredBy, AmdVerdict } from '../../dsp/amd.ts';
import type { AgentEvent } from '../agent/events.ts';
import type { FlowEvent } from '../flow/events.ts';

export type AmdResult = AmdVerdict;
/** Carrier-compatible detail (Twilio's AnsweredBy values). */
export type AnsweredBy = AmdAnsweredBy;

export type CoreEvent =
  | { type: 'call.started'; atMs: number; carrier: Carrier; streamId: string; carrierCallId: string; mediaFormat: string }
  | { type: 'call.ended'; atMs: number; reason: string }
  | { type: 'dtmf'; atMs: number; digit: string; source: 'carrier' | 'inband'; durationMs?: number }
  | { type: 'playout.started'; atMs: number; playbackId: string; label: string; audioMs: number }
  | { type: 'playout.finished'; atMs: number; playbackId: string; label: string; heardMs: number; audioMs: number; interrupted: boolean }
  | { type: 'playout.cleared'; atMs: number; reason: string }
  | { type: 'dtmf.sent'; atMs: number; digits: string }
  /** The recording is registered by id (GET /v1/calls/{id}/recording), never by path. */
  | { type: 'recording.saved'; atMs: number; recordingId: string; durationMs: number; bytes: number }
  /** The recording stopped early (disk full, write error, size limit); the call went on. */
  | { type: 'recording.stopped'; atMs: number; reason: string };

export type DetectorEvent =
  | { type: 'speech.started'; atMs: number }
  | { type: 'speech.stopped'; atMs: number; durationMs: number }
  /** First human/machine verdict. */
  | { type: 'amd.verdict'; atMs: number; result: AmdResult; answeredBy: AnsweredBy; confidence: number; reason: string }
  /**
   * A verdict revised once, within the revision window after it: human → machine on a beep or on the
   * callee talking over our prompt; machine → human on a key press. `previous` is the revised verdict.
   */
  | { type: 'amd.revised'; atMs: number; result: AmdResult; answeredBy: AnsweredBy; confidence: number; reason: string; previous: AmdResult }
  /** In message-end mode, the end of a machine's greeting (beep, silence or timeout). */
  | { type: 'amd.message_end'; atMs: number; answeredBy: AnsweredBy; reason: string }
  /** A beep has just ended (`atMs` is when it was signalled). */
  | { type: 'beep'; atMs: number; frequencyHz: number; durationMs: number }
  | { type: 'fax.tone'; atMs: number; tone: 'CNG' | 'CED' };

// The events flows and the agent add to the timeline, typed beside their producers (leaf modules of
// types, so the call's vocabulary names them without depending on the flow or agent code).
export type CallEvent = CoreEvent | DetectorEvent | FlowEvent | AgentEvent;
export type CallEventType = CallEvent['type'];
