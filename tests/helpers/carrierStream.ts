// The carrier's side of a call, driven by hand in gateway tests: the voice webhook, the media
// websocket and its start message, and a whole call replayed from a fixture.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall, type ReplayOptions, type ReplayResult } from '../../src/replay/client.ts';
import { parseTwiml } from '../../src/telephony/twiml.ts';
import { PUBLIC_URL, type TestGateway } from './gateway.ts';

/** One 20 ms mu-law frame of silence, base64 as in a media message. */
export const SILENCE_FRAME = Buffer.alloc(160, MULAW_SILENCE).toString('base64');

/** Opens a media websocket; `received` collects what the gateway sends, `closed` its close. */
export async function openMediaSocket(url: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }>; received: string[] }> {
  const ws = new WebSocket(url);
  const received: string[] = [];
  ws.on('message', (d: Buffer) => received.push(d.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, closed, received };
}

/** A Twilio stream's start for call `sid` with the webhook's stream parameters. */
export const streamStart = (sid: string, params: Record<string, string>) => ({
  streamId: `MZ${sid.slice(2)}`,
  carrierCallId: sid,
  accountId: 'AC0123456789abcdef0123456789abcdef',
  tracks: ['inbound'],
  mediaFormat: { encoding: 'audio/x-mulaw' as const, sampleRateHz: 8000, channels: 1 },
  customParameters: params,
});

/** Twilio's voice webhook for call `sid` (local mode: unsigned); `params` are the TwiML stream's. */
export async function voiceWebhook(gw: TestGateway, sid: string, to = '+14155550199'): Promise<{ status: number; body: string; params: Record<string, string> }> {
  const res = await gw.app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ CallSid: sid, From: '+14155550100', To: to }).toString() });
  return { status: res.statusCode, body: res.body, params: parseTwiml(res.body).stream?.parameters ?? {} };
}

/** A caller saying "yes", replayed into the gateway as Twilio would at 5× speed. */
export function replayYes(gw: TestGateway, extra: Partial<ReplayOptions> = {}): Promise<ReplayResult> {
  return replayCall({
    carrier: 'twilio',
    audio: decodeWav(readFileSync(new URL('../../fixtures/speech/yes.wav', import.meta.url))),
    url: gw.wsUrl,
    publicUrl: PUBLIC_URL,
    speed: 5,
    holdMs: 60_000,
    ...extra,
  });
}
