// One probe call: plays caller audio into the gateway like a carrier and hangs up as soon as the
// first outbound media frame arrives, reporting `start` → first media in wall ms (the replay client's
// firstAudio). A probe that hears nothing within `timeoutMs` reports why.
import { replayCall } from '../../src/replay/client.ts';
import type { PcmAudio } from '../../dsp/wav.ts';
import { callerAudio } from './callerAudio.ts';
import type { BenchGateway } from './gateway.ts';
import type { PreparedCall } from './twimlReplay.ts';

export type ProbeOutcome = { ok: true; firstAudioMs: number } | { ok: false; error: string };

let audio: PcmAudio | undefined;

/**
 * Without `prepared` the probe posts the gateway's own voice webhook (a new outbound call); pass a
 * TwimlReplay call to start a stream whose webhook was answered earlier.
 */
export async function probeCall(gw: BenchGateway, timeoutMs: number, prepared?: PreparedCall): Promise<ProbeOutcome> {
  audio ??= callerAudio(timeoutMs + 1000);
  const done = new AbortController();
  const timeout = AbortSignal.timeout(timeoutMs + 10_000);
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await replayCall({
      carrier: 'twilio',
      audio,
      url: gw.wsUrl,
      speed: 1,
      holdMs: 0,
      maxHoldMs: 0,
      ...(prepared ? { callSid: prepared.callSid } : {}),
      webhook: prepared ? { url: prepared.url } : { url: `${gw.httpUrl}/voice/twilio`, params: { Direction: 'outbound-api' } },
      signal: AbortSignal.any([done.signal, timeout]),
      onEvent: (e) => {
        if (e.event === 'audio.first') done.abort();
        else if (e.event === 'start') timer = setTimeout(() => done.abort(), timeoutMs);
      },
    });
    if (r.firstAudio) return { ok: true, firstAudioMs: r.firstAudio.wallMs };
    return { ok: false, error: `no audio within ${timeoutMs} ms (${r.endReason})` };
  } catch (err) {
    return { ok: false, error: (err as Error).message.slice(0, 160) };
  } finally {
    clearTimeout(timer);
  }
}
