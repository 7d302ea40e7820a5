// Per-turn latency marks, emitted on the call timeline as `turn.*` events: media time (`atMs`, what the
// caller experiences) and wall-clock deltas (performance.now, what the gateway and providers cost).
// Gateway overhead = commit→first audio written, minus the LLM's time to its first complete sentence
// and the TTS's time to its first byte: what is left is our own code (queues, chunking, framing).
import type { CallControl } from '../../call/control.ts';
import type { AgentEvent, AgentEventData } from '../events.ts';

export class TurnMetrics {
  readonly turn: number;
  private readonly call: CallControl;
  readonly speechEndMs: number | undefined;
  readonly commitWall: number;
  readonly commitMs: number;
  llmRequestWall = 0;
  llmFirstTokenWall = 0;
  firstSentenceWall = 0;
  ttsRequestWall = 0;
  ttsFirstByteWall = 0;
  firstAudioWall = 0;
  firstAudioMs = -1;

  constructor(call: CallControl, turn: number, speechEndMs: number | undefined) {
    this.call = call;
    this.turn = turn;
    this.speechEndMs = speechEndMs;
    this.commitWall = performance.now();
    this.commitMs = call.mediaMs();
  }

  private emit<K extends 'turn.llm_first_token' | 'turn.tts_first_byte' | 'turn.first_audio'>(type: K, data: Omit<AgentEventData[K], 'turn'>): void {
    this.call.emit({ type, atMs: this.call.mediaMs(), data: { turn: this.turn, ...data } as AgentEventData[K] } as AgentEvent);
  }

  llmRequest(): void {
    if (this.llmRequestWall === 0) this.llmRequestWall = performance.now();
  }

  llmFirstToken(): void {
    if (this.llmFirstTokenWall !== 0) return;
    this.llmFirstTokenWall = performance.now();
    this.emit('turn.llm_first_token', { sinceRequestWallMs: round(this.llmFirstTokenWall - this.llmRequestWall) });
  }

  sentenceReady(): void {
    if (this.firstSentenceWall === 0) this.firstSentenceWall = performance.now();
  }

  ttsRequest(): void {
    if (this.ttsRequestWall === 0) this.ttsRequestWall = performance.now();
  }

  ttsFirstByte(provider: string): void {
    if (this.ttsFirstByteWall !== 0) return;
    this.ttsFirstByteWall = performance.now();
    this.emit('turn.tts_first_byte', { provider, sinceRequestWallMs: round(this.ttsFirstByteWall - this.ttsRequestWall) });
  }

  firstAudio(): void {
    if (this.firstAudioWall !== 0) return;
    this.firstAudioWall = performance.now();
    this.firstAudioMs = this.call.mediaMs();
    const totalWall = this.firstAudioWall - this.commitWall;
    const llmMs = this.llmRequestWall > 0 && this.firstSentenceWall > 0 ? this.firstSentenceWall - this.llmRequestWall : 0;
    const ttsMs = this.ttsRequestWall > 0 ? this.ttsFirstByteWall - this.ttsRequestWall : 0;
    this.emit('turn.first_audio', {
      responseLatencyMs: this.speechEndMs === undefined ? undefined : this.firstAudioMs - this.speechEndMs,
      commitToAudioWallMs: round(totalWall),
      llmMs: round(llmMs),
      ttsMs: round(ttsMs),
      gatewayOverheadMs: round(Math.max(0, totalWall - llmMs - ttsMs)),
    });
  }

  /** The figures of this turn (bench and tests read them without parsing events). */
  overheadMs(): number {
    const llmMs = this.llmRequestWall > 0 && this.firstSentenceWall > 0 ? this.firstSentenceWall - this.llmRequestWall : 0;
    const ttsMs = this.ttsRequestWall > 0 ? this.ttsFirstByteWall - this.ttsRequestWall : 0;
    return Math.max(0, this.firstAudioWall - this.commitWall - llmMs - ttsMs);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
