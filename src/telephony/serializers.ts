// Dialect lookup by carrier name, so callers never branch on the carrier themselves.
import { signalwireCarrierDialect, signalwireSerializer } from './signalwire.ts';
import { twilioCarrierDialect, twilioSerializer } from './twilio.ts';
import type { Carrier, CarrierDialect, GatewaySerializer } from './types.ts';

export function gatewaySerializerFor(carrier: Carrier): GatewaySerializer {
  return carrier === 'twilio' ? twilioSerializer : signalwireSerializer;
}

export function carrierDialectFor(carrier: Carrier): CarrierDialect {
  return carrier === 'twilio' ? twilioCarrierDialect : signalwireCarrierDialect;
}

export function isCarrier(value: unknown): value is Carrier {
  return value === 'twilio' || value === 'signalwire';
}
