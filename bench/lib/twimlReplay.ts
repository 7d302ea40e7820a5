// Stands in for a carrier that already has a call's TwiML: the gateway answers the voice webhook
// (which records the call in the database) while the database is healthy; this little server then
// hands that same TwiML to the replay client, so the stream itself can start while the database is
// stalled — exactly the calls a stall must not silence.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { carrierSid } from '../../src/replay/ids.ts';
import { postVoiceWebhook } from '../../src/replay/webhook.ts';

/** A call whose voice webhook the gateway has answered: where its TwiML is replayed, and its CallSid. */
export interface PreparedCall {
  url: string;
  callSid: string;
}

export class TwimlReplay {
  readonly #answers: string[] = [];
  readonly #server = http.createServer((req, res) => {
    const body = this.answer(Number((req.url ?? '').slice(1)));
    req.resume();
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
  });

  static async start(): Promise<TwimlReplay> {
    const self = new TwimlReplay();
    await new Promise<void>((resolve) => self.#server.listen(0, '127.0.0.1', () => resolve()));
    return self;
  }

  answer(index: number): string | undefined {
    return this.#answers[index];
  }

  /**
   * Posts the voice webhook of a new outbound call to the gateway now; returns the URL that replays its
   * TwiML and the call's CallSid — its stream must name that call (stream tokens are bound to it).
   */
  async prepare(gatewayHttpUrl: string): Promise<PreparedCall> {
    const callSid = carrierSid('twilio', 'call');
    const answer = await postVoiceWebhook({
      carrier: 'twilio',
      url: `${gatewayHttpUrl}/voice/twilio`,
      params: { CallSid: callSid, AccountSid: carrierSid('twilio', 'account'), From: '+15005550006', To: '+15005550001', Direction: 'outbound-api', CallStatus: 'in-progress' },
    });
    this.#answers.push(answer.body);
    return { url: `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/${this.#answers.length - 1}`, callSid };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
