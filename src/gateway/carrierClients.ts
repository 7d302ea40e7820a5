// The carriers' REST clients built from configuration, and the per-call actions (hang up, transfer)
// a session gets from them. Without credentials for a carrier there are no actions: a hang-up then
// just closes the stream, and a transfer fails with a clear error.
import type { CarrierActions } from '../call/CallSession.ts';
import type { Carrier } from '../call/events.ts';
import type { Config } from '../config.ts';
import { CarrierRestClient } from '../telephony/rest.ts';

export type CarrierClients = Partial<Record<Carrier, CarrierRestClient>>;

export function carrierClientsFromConfig(config: Config): CarrierClients {
  const clients: CarrierClients = {};
  const tw = config.carriers.twilio;
  if (tw) clients.twilio = new CarrierRestClient({ carrier: 'twilio', accountSid: tw.accountSid, authToken: tw.authToken, baseUrl: tw.apiBaseUrl });
  const sw = config.carriers.signalwire;
  if (sw) {
    // SIGNALWIRE_API_BASE_URL / SPACE_URL give https://{space}.signalwire.com/api/laml; the client adds /api/laml itself.
    clients.signalwire = new CarrierRestClient({ carrier: 'signalwire', accountSid: sw.projectId, authToken: sw.apiToken, baseUrl: sw.apiBaseUrl.replace(/\/api\/laml$/, '') });
  }
  return clients;
}

export function carrierActionsFor(clients: CarrierClients) {
  return (carrier: Carrier, carrierCallId: string): CarrierActions | undefined => {
    const client = clients[carrier];
    if (client === undefined) return undefined;
    return {
      hangup: async () => {
        await client.hangup(carrierCallId);
      },
      transfer: async (target) => {
        await client.transfer(carrierCallId, { number: target.number, callerId: target.callerId, timeoutS: target.timeoutS });
      },
    };
  };
}
