// Listen-in: a live call's two channels streamed to one browser as they happen. The body is a
// sequence of records `[channel: 1 byte (0 caller, 1 gateway)][length: 2 bytes BE][8 kHz mu-law]`;
// the page decodes and plays them with the Web Audio API. The two channels go in lockstep on the
// call's media clock: for each piece of caller audio received, the gateway audio the caller hears over
// the same span (outboundTimeline.ts: prompts and agent speech as the carrier plays them, including
// what was sent before the listener joined; silence where nothing plays). Taps copy the bytes and
// return at once: a slow listener loses audio (records dropped past a small buffer), never the call
// its real time.
import type { FastifyReply } from 'fastify';
import type { CallSession } from '../call/CallSession.ts';
import type { CallRegistry } from '../gateway/registry.ts';
import { OutboundTimeline } from './outboundTimeline.ts';

const MAX_BUFFERED_BYTES = 64 * 1024;

/** Follows every call from its start (a listener may join mid-prompt), and streams it to listeners. */
export class ListenIn {
  private readonly timelines = new Map<string, OutboundTimeline>();
  private readonly stop: () => void;
  private readonly log: { error(obj: object, msg: string): void };

  constructor(registry: CallRegistry, log: { error(obj: object, msg: string): void }) {
    this.log = log;
    for (const s of registry.all()) this.follow(s);
    this.stop = registry.onAdded((s) => this.follow(s));
  }

  close(): void {
    this.stop();
    for (const t of this.timelines.values()) t.close();
    this.timelines.clear();
  }

  private follow(session: CallSession): void {
    // A live view failing must never cost a call its admission: errors are logged, not thrown.
    try {
      if (session.ended || this.timelines.has(session.callId)) return;
      const timeline = new OutboundTimeline(session);
      this.timelines.set(session.callId, timeline);
      session.signal.addEventListener(
        'abort',
        () => {
          timeline.close();
          if (this.timelines.get(session.callId) === timeline) this.timelines.delete(session.callId);
        },
        { once: true },
      );
    } catch (err) {
      this.log.error({ err, callId: session.callId }, 'listen-in could not follow a call');
    }
  }

  stream(session: CallSession, reply: FastifyReply): void {
    this.follow(session);
    const timeline = this.timelines.get(session.callId);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    let cursorMs = session.mediaMs();
    const onCaller = (mulaw: Uint8Array): void => {
      const spanMs = mulaw.length / 8;
      if (!res.destroyed && res.writableLength <= MAX_BUFFERED_BYTES) {
        const record = Buffer.allocUnsafe(2 * (3 + mulaw.length));
        record[0] = 0;
        record.writeUInt16BE(mulaw.length, 1);
        record.set(mulaw, 3);
        const gateway = record.subarray(3 + mulaw.length);
        gateway[0] = 1;
        gateway.writeUInt16BE(mulaw.length, 1);
        timeline?.read(cursorMs, gateway.subarray(3));
        res.write(record);
      }
      cursorMs += spanMs;
    };
    const stopCaller = session.addMediaConsumer(onCaller);
    const finish = (): void => {
      stopCaller();
      session.signal.removeEventListener('abort', finish);
      if (!res.destroyed) res.end();
    };
    session.signal.addEventListener('abort', finish, { once: true });
    res.once('close', finish);
  }
}
