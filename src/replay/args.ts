// Command-line arguments of `npm run replay`, parsed and checked before anything touches the network.
import { parseArgs } from 'node:util';
import { createError, type GatewayError } from '../errors.ts';
import { isCarrier } from '../telephony/serializers.ts';
import type { Carrier } from '../telephony/types.ts';
import { parseCodec } from './audio.ts';
import { parseDtmfSpec, type DtmfPress } from './client.ts';

export const USAGE = `usage: npm run replay -- FILE.wav [options]

Plays FILE.wav into the gateway exactly as a carrier would: voice webhook, media stream, marks, DTMF.

  --carrier twilio|signalwire   dialect to speak (default twilio)
  --url ws://HOST:PORT          gateway to connect to (default ws://127.0.0.1:3000)
  --speed N                     real-time multiple (default 1)
  --dtmf "1@2500,#@4000"        key presses at media times in ms
  --hold MS                     silence streamed after the file ends (default 2000)
  --codec PCMU@8000h|L16@16000h|L16@24000h   stream codec (SignalWire only for L16)
  --from +1…  --to +1…          caller and called numbers
  --public-url https://HOST     the gateway's PUBLIC_URL, which signatures cover (default $PUBLIC_URL)
  --webhook URL                 POST this webhook instead of /voice/{carrier} (outbound calls)
  --call-sid SID                carrier call id to use (with --webhook: the call placed)
  --out reply.wav               write what the caller heard (8 kHz mu-law WAV)
  --json                        print the result as JSON instead of a timeline
  --verbose                     print every mark and mark echo (folded into runs by default)

Signing: TWILIO_AUTH_TOKEN (twilio) or SIGNALWIRE_SIGNING_KEY (signalwire) signs the webhook, and
Twilio's websocket upgrade, when set.`;

export interface ReplayArgs {
  file: string;
  carrier: Carrier;
  url: string;
  speed: number;
  dtmf: DtmfPress[];
  holdMs: number;
  codec: string | undefined;
  from: string | undefined;
  to: string | undefined;
  publicUrl: string | undefined;
  webhook: string | undefined;
  callSid: string | undefined;
  out: string | undefined;
  json: boolean;
  verbose: boolean;
  authToken: string | undefined;
  help: boolean;
}

function bad(message: string): GatewayError {
  return createError('GW_ERR_REPLAY_ARGS', `${message}\n\n${USAGE}`, { statusCode: 400 });
}

function positive(name: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw bad(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got "${text}")`);
  return n;
}

export function parseReplayArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ReplayArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        carrier: { type: 'string' },
        url: { type: 'string' },
        speed: { type: 'string' },
        dtmf: { type: 'string' },
        hold: { type: 'string' },
        codec: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'public-url': { type: 'string' },
        webhook: { type: 'string' },
        'call-sid': { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw bad((err as Error).message);
  }
  const v = parsed.values;
  const help = v.help === true;
  if (help) return { file: '', carrier: 'twilio', url: '', speed: 1, dtmf: [], holdMs: 0, codec: undefined, from: undefined, to: undefined, publicUrl: undefined, webhook: undefined, callSid: undefined, out: undefined, json: false, verbose: false, authToken: undefined, help };
  if (parsed.positionals.length !== 1) throw bad(parsed.positionals.length === 0 ? 'no WAV file given' : `one WAV file expected (got ${parsed.positionals.join(' ')})`);
  const carrier = v.carrier ?? 'twilio';
  if (!isCarrier(carrier)) throw bad(`--carrier must be twilio or signalwire (got "${carrier}")`);
  const url = v.url ?? 'ws://127.0.0.1:3000';
  if (!/^wss?:\/\/[^/]+/.test(url)) throw bad(`--url must be a ws:// or wss:// URL (got "${url}")`);
  if (v.codec !== undefined) {
    const format = parseCodec(v.codec);
    if (!format) throw bad(`--codec must be PCMU@8000h, L16@8000h, L16@16000h or L16@24000h (got "${v.codec}")`);
    if (format.encoding === 'audio/x-L16' && carrier === 'twilio') throw bad('--codec L16 is SignalWire only; Twilio streams PCMU@8000h');
  }
  let dtmf: DtmfPress[] = [];
  if (v.dtmf !== undefined) {
    try {
      dtmf = parseDtmfSpec(v.dtmf);
    } catch (err) {
      throw bad((err as Error).message);
    }
    const allowed = carrier === 'twilio' ? /^[0-9*#]$/ : /^[0-9*#A-D]$/;
    const wrong = dtmf.find((d) => !allowed.test(d.digit));
    if (wrong) throw bad(`--dtmf digit "${wrong.digit}" cannot be sent on ${carrier}`);
  }
  for (const [name, value] of [['public-url', v['public-url']], ['webhook', v.webhook]] as const) {
    if (value !== undefined && !/^https?:\/\/[^/]+/.test(value)) throw bad(`--${name} must be an http(s) URL (got "${value}")`);
  }
  const publicUrl = v['public-url'] ?? (env.PUBLIC_URL || undefined);
  return {
    file: parsed.positionals[0] as string,
    carrier,
    url,
    speed: positive('speed', v.speed, 1),
    dtmf,
    holdMs: positive('hold', v.hold, 2000, true),
    codec: v.codec,
    from: v.from,
    to: v.to,
    publicUrl,
    webhook: v.webhook,
    callSid: v['call-sid'],
    out: v.out,
    json: v.json === true,
    verbose: v.verbose === true,
    authToken: (carrier === 'twilio' ? env.TWILIO_AUTH_TOKEN : env.SIGNALWIRE_SIGNING_KEY) || undefined,
    help,
  };
}
