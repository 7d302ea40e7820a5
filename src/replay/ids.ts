// Carrier-shaped identifiers, so the gateway sees what it would see in production: Twilio SIDs are a
// two-letter prefix and 32 hex digits (CA call, MZ stream, AC account); SignalWire uses UUIDs throughout.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Carrier } from '../telephony/types.ts';

export type SidKind = 'call' | 'stream' | 'account';

const TWILIO_PREFIX: Record<SidKind, string> = { call: 'CA', stream: 'MZ', account: 'AC' };

export function carrierSid(carrier: Carrier, kind: SidKind): string {
  return carrier === 'twilio' ? TWILIO_PREFIX[kind] + randomBytes(16).toString('hex') : randomUUID();
}
