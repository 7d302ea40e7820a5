// Listen-in: a live call's two channels streamed to one browser as they happen. The body is a
// sequence of records `[channel: 1 byte (0 caller, 1 gateway)][length: 2 bytes BE][8 kHz mu-law]`;
// the page decodes and plays them with the Web Audio API. Taps copy the bytes and return at once: a
// slow listener loses audio (records dropped past a small buffer), never the call its real time.
import type { FastifyReply } from 'fastify';
import type { CallSession } from '../call/CallSession.ts';

const MAX_BUFFERED_BYTES = 64 * 1024;

export function listenIn(session: CallSession, reply: FastifyReply): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  const write = (channel: number, mulaw: Uint8Array): void => {
    if (res.destroyed || res.writableLength > MAX_BUFFERED_BYTES) return;
    const record = Buffer.allocUnsafe(3 + mulaw.length);
    record[0] = channel;
    record.writeUInt16BE(mulaw.length, 1);
    record.set(mulaw, 3);
    res.write(record);
  };
  const stopCaller = session.addMediaConsumer((mulaw) => write(0, mulaw));
  const stopGateway = session.addOutboundConsumer((mulaw) => write(1, mulaw));
  const finish = (): void => {
    stopCaller();
    stopGateway();
    session.signal.removeEventListener('abort', finish);
    if (!res.destroyed) res.end();
  };
  session.signal.addEventListener('abort', finish, { once: true });
  res.once('close', finish);
}
