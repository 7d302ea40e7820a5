// TwiML / cXML documents the gateway answers a voice webhook with, and the small reader the replay client
// uses to act on them. SignalWire's cXML is TwiML-compatible; it adds authBearerToken and codec on <Stream>.
// Sources: twilio.com/docs/voice/twiml/stream, /twiml/connect, /twiml/dial, /twiml/reject;
// signalwire/docs cxml/voice/stream.mdx.
import type { Carrier } from './types.ts';

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';

/** Escape text for an XML attribute value or element content. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/** Undo XML escaping: the five named entities and numeric character references. */
export function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (whole, name: string) => {
    switch (name) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = name.startsWith('#x') ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
    }
  });
}

function attrs(values: Record<string, string | number | undefined>): string {
  let out = '';
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out += ` ${k}="${escapeXml(String(v))}"`;
  return out;
}

export type StreamCodec = 'PCMU@8000h' | 'L16@8000h' | 'L16@16000h' | 'L16@24000h';

export interface ConnectStreamOptions {
  carrier: Carrier;
  /** wss://host/media/{carrier}; carriers reject query strings here, so pass data as parameters. */
  url: string;
  /** Delivered in start.customParameters. Twilio limits name+value to 500 chars each pair. */
  parameters?: Record<string, string>;
  /** SignalWire only: sent as `Authorization: Bearer …` on the WS upgrade. Ignored for Twilio. */
  authBearerToken?: string;
  /** SignalWire only. Ignored for Twilio (mu-law 8 kHz only). */
  codec?: StreamCodec;
  name?: string;
  statusCallback?: string;
  statusCallbackMethod?: 'GET' | 'POST';
  /** <Connect action>: where the carrier asks for TwiML once the stream ends. */
  action?: string;
}

/** `<Response><Connect><Stream …><Parameter …/></Stream></Connect></Response>` */
export function connectStreamTwiml(opts: ConnectStreamOptions): string {
  if (!/^wss?:\/\//i.test(opts.url)) throw new RangeError(`stream url must be ws:// or wss:// (got ${JSON.stringify(opts.url)})`);
  const sw = opts.carrier === 'signalwire';
  const stream = attrs({
    url: opts.url,
    name: opts.name,
    authBearerToken: sw ? opts.authBearerToken : undefined,
    codec: sw ? opts.codec : undefined,
    statusCallback: opts.statusCallback,
    statusCallbackMethod: opts.statusCallback ? opts.statusCallbackMethod : undefined,
  });
  let params = '';
  for (const [name, value] of Object.entries(opts.parameters ?? {})) params += `<Parameter${attrs({ name, value })}/>`;
  return `${XML_HEAD}<Response><Connect${attrs({ action: opts.action })}><Stream${stream}>${params}</Stream></Connect></Response>`;
}

/** What to answer when the gateway cannot take the call (at capacity, draining). */
export function refusalTwiml(opts: { message?: string; reject?: 'busy' | 'rejected' } = {}): string {
  if (opts.reject) return `${XML_HEAD}<Response><Reject${attrs({ reason: opts.reject })}/></Response>`;
  const message = opts.message ?? 'Sorry, all of our lines are busy right now. Please call back in a few minutes.';
  return `${XML_HEAD}<Response><Say>${escapeXml(message)}</Say><Hangup/></Response>`;
}

export interface DialOptions {
  /** E.164 number or SIP URI (sip:…) to transfer to. */
  number: string;
  callerId?: string;
  /** Seconds to ring before giving up (Twilio default 30). */
  timeoutS?: number;
  action?: string;
  /** Spoken before dialing. */
  say?: string;
}

/** `<Dial>` for a transfer (used with a call update). */
export function dialTwiml(opts: DialOptions): string {
  if (opts.timeoutS !== undefined && !(opts.timeoutS >= 5 && opts.timeoutS <= 600)) throw new RangeError('Dial timeout must be 5-600 s');
  const target = opts.number.startsWith('sip:') ? `<Sip>${escapeXml(opts.number)}</Sip>` : `<Number>${escapeXml(opts.number)}</Number>`;
  const say = opts.say ? `<Say>${escapeXml(opts.say)}</Say>` : '';
  return `${XML_HEAD}<Response>${say}<Dial${attrs({ callerId: opts.callerId, timeout: opts.timeoutS, action: opts.action })}>${target}</Dial></Response>`;
}

export interface ParsedStream {
  url: string;
  authBearerToken: string | undefined;
  codec: string | undefined;
  name: string | undefined;
  parameters: Record<string, string>;
}

export interface ParsedTwiml {
  /** Top-level verbs in order (`Connect`, `Say`, `Hangup`, `Reject`…). */
  verbs: string[];
  /** The first <Stream> inside <Connect>, if any. */
  stream: ParsedStream | undefined;
  /** <Reject reason>, if the response rejects the call. */
  rejectReason: string | undefined;
}

const TAG = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
const ATTR = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseAttrs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(ATTR)) out[m[1] as string] = unescapeXml(m[2] ?? m[3] ?? '');
  return out;
}

/**
 * Read a TwiML response at the attribute level: enough to act as a carrier on <Connect><Stream>,
 * <Reject> and <Hangup>. Comments, CDATA and the XML declaration are skipped; text content is ignored.
 */
export function parseTwiml(xml: string): ParsedTwiml {
  const body = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '').replace(/<\?[\s\S]*?\?>/g, '');
  const stack: string[] = [];
  const verbs: string[] = [];
  let stream: ParsedStream | undefined;
  let current: ParsedStream | undefined;
  let rejectReason: string | undefined;
  for (const m of body.matchAll(TAG)) {
    const closing = m[1] === '/';
    const name = m[2] as string;
    const selfClosing = m[4] === '/';
    if (closing) {
      if (stack.at(-1) === name) stack.pop();
      if (name === 'Stream') current = undefined;
      continue;
    }
    const a = parseAttrs(m[3] ?? '');
    const parent = stack.at(-1);
    if (parent === 'Response') verbs.push(name);
    if (name === 'Reject' && parent === 'Response') rejectReason = a.reason ?? 'rejected';
    if (name === 'Stream' && parent === 'Connect' && !stream && a.url !== undefined) {
      current = { url: a.url, authBearerToken: a.authBearerToken, codec: a.codec, name: a.name, parameters: {} };
      stream = current;
    }
    if (name === 'Parameter' && parent === 'Stream' && current && a.name !== undefined) current.parameters[a.name] = a.value ?? '';
    if (!selfClosing) stack.push(name);
    if (name === 'Stream' && selfClosing) current = undefined;
  }
  return { verbs, stream, rejectReason };
}
